// Classifying a pod's status into ready / waiting / failed.
#include "lib/kube/pod_state.h"

#include <optional>
#include <set>

#include "absl/strings/str_cat.h"

namespace kim::kube {
namespace {

// Waiting reasons the kubelet reports for problems that retrying does not fix by itself.
bool IsStuckReason(const std::string& reason) {
  static const std::set<std::string> kStuck = {
      "ErrImagePull",          "ImagePullBackOff",      "ErrImageNeverPull",
      "InvalidImageName",      "CrashLoopBackOff",      "CreateContainerConfigError",
      "CreateContainerError",  "RunContainerError"};
  return kStuck.contains(reason);
}

bool IsImagePullReason(const std::string& reason) {
  return reason == "ErrImagePull" || reason == "ImagePullBackOff" ||
         reason == "ErrImageNeverPull" || reason == "InvalidImageName";
}

const Json& EmptyArray() {
  static const Json kEmpty = Json::array();
  return kEmpty;
}

const Json& ArrayAt(const Json& object, std::initializer_list<const char*> path) {
  const Json* value = JsonAt(object, path);
  return value != nullptr && value->is_array() ? *value : EmptyArray();
}

std::string SpecImage(const Json& pod, bool init, const std::string& container) {
  for (const Json& c : ArrayAt(pod, {"spec", init ? "initContainers" : "containers"}).as_array()) {
    if (JsonString(c, {"name"}) == container) return JsonString(c, {"image"});
  }
  return "";
}

// "exited with code 1: message" for a terminated state.
std::string ExitText(const Json& terminated) {
  std::string text = absl::StrCat("exited with code ", JsonInt(terminated, {"exitCode"}));
  if (const std::string message = JsonString(terminated, {"message"}); !message.empty()) {
    absl::StrAppend(&text, ": ", message);
  }
  return text;
}

bool ConditionTrue(const Json& pod, const std::string& type) {
  for (const Json& condition : ArrayAt(pod, {"status", "conditions"}).as_array()) {
    if (JsonString(condition, {"type"}) == type) return JsonString(condition, {"status"}) == "True";
  }
  return false;
}

// The state of one container status, before it is judged: its reason and details.
PodState ContainerState(const Json& pod, const Json& status, bool init) {
  PodState state;
  state.container = JsonString(status, {"name"});
  state.init_container = init;
  state.image = SpecImage(pod, init, state.container);
  state.restart_count = static_cast<int>(JsonInt(status, {"restartCount"}));
  const Json* last = JsonAt(status, {"lastState", "terminated"});
  if (const Json* waiting = JsonAt(status, {"state", "waiting"}); waiting != nullptr) {
    state.reason = JsonString(*waiting, {"reason"});
    state.message = JsonString(*waiting, {"message"});
    state.previous_logs = last != nullptr;
    if (state.reason == "CrashLoopBackOff" && last != nullptr) {
      absl::StrAppend(&state.message, state.message.empty() ? "" : "; ", "restarted ",
                      state.restart_count, state.restart_count == 1 ? " time" : " times",
                      ", last run ", ExitText(*last));
    }
    if (state.reason.empty()) state.reason = "Waiting";
  } else if (const Json* terminated = JsonAt(status, {"state", "terminated"}); terminated != nullptr) {
    const std::string reason = JsonString(*terminated, {"reason"});
    state.reason = reason.empty() ? "Terminated" : reason;
    state.message = ExitText(*terminated);
    if (JsonInt(*terminated, {"exitCode"}) != 0) {
      // An init container must succeed: its failure fails the pod's start. A regular container
      // is restarted by the kubelet (and ends in CrashLoopBackOff if it keeps failing).
      if (init) state.kind = PodState::Kind::kFailed;
    }
  } else if (JsonAt(status, {"state", "running"}) != nullptr) {
    state.reason = "Running";
    if (!init && !(JsonAt(status, {"ready"}) != nullptr && status.at("ready").is_boolean() &&
                   status.at("ready").as_bool())) {
      state.message = "not ready yet (readiness probe)";
    }
  } else {
    state.reason = "Waiting";
  }
  if (IsStuckReason(state.reason)) state.kind = PodState::Kind::kFailed;
  state.image_pull = IsImagePullReason(state.reason);
  return state;
}

bool ContainerReady(const Json& status) {
  const Json* ready = JsonAt(status, {"ready"});
  return ready != nullptr && ready->is_boolean() && ready->as_bool();
}

bool InitContainerDone(const Json& status) {
  const Json* terminated = JsonAt(status, {"state", "terminated"});
  return terminated != nullptr && JsonInt(*terminated, {"exitCode"}) == 0;
}

PodState PodWide(PodState::Kind kind, std::string reason, std::string message) {
  PodState state;
  state.kind = kind;
  state.reason = std::move(reason);
  state.message = std::move(message);
  return state;
}

// Why a pod without container statuses is not running yet: unschedulable, or just pending.
PodState NotStarted(const Json& pod) {
  for (const Json& condition : ArrayAt(pod, {"status", "conditions"}).as_array()) {
    if (JsonString(condition, {"type"}) == "PodScheduled" &&
        JsonString(condition, {"status"}) == "False") {
      const std::string reason = JsonString(condition, {"reason"});
      return PodWide(PodState::Kind::kWaiting, reason.empty() ? "Unscheduled" : reason,
                     JsonString(condition, {"message"}));
    }
  }
  const std::string phase = JsonString(pod, {"status", "phase"});
  return PodWide(PodState::Kind::kWaiting, phase.empty() ? "Pending" : phase, "");
}

}  // namespace

PodState ClassifyPod(const Json& pod) {
  if (JsonAt(pod, {"metadata", "deletionTimestamp"}) != nullptr) {
    return PodWide(PodState::Kind::kWaiting, "Terminating", "");
  }
  const std::string phase = JsonString(pod, {"status", "phase"});
  if (phase == "Failed" || phase == "Succeeded") {
    const std::string reason = JsonString(pod, {"status", "reason"});
    return PodWide(PodState::Kind::kFailed,
                   !reason.empty() ? reason : phase == "Failed" ? "Failed" : "Completed",
                   phase == "Succeeded" && JsonString(pod, {"status", "message"}).empty()
                       ? "every container exited"
                       : JsonString(pod, {"status", "message"}));
  }
  // Init containers run first, one after the other; the first that is not done is where the
  // pod stands.
  for (const Json& status : ArrayAt(pod, {"status", "initContainerStatuses"}).as_array()) {
    if (InitContainerDone(status)) continue;
    return ContainerState(pod, status, /*init=*/true);
  }
  const Json& statuses = ArrayAt(pod, {"status", "containerStatuses"});
  std::optional<PodState> first_not_ready;
  size_t ready = 0;
  for (const Json& status : statuses.as_array()) {
    PodState state = ContainerState(pod, status, /*init=*/false);
    if (state.kind == PodState::Kind::kFailed) return state;
    if (ContainerReady(status)) {
      ++ready;
    } else if (!first_not_ready) {
      first_not_ready = std::move(state);
    }
  }
  const size_t wanted = ArrayAt(pod, {"spec", "containers"}).size();
  if (ready > 0 && ready == statuses.size() && ready >= wanted && ConditionTrue(pod, "Ready")) {
    return PodWide(PodState::Kind::kReady, "Ready", "");
  }
  if (first_not_ready) return *first_not_ready;
  if (statuses.size() == 0) return NotStarted(pod);
  return PodWide(PodState::Kind::kWaiting, "Running", "containers ready, pod not Ready yet");
}

std::string DescribePodState(const PodState& state) {
  std::string text;
  if (!state.container.empty()) {
    text = absl::StrCat(state.init_container ? "init container \"" : "container \"",
                        state.container, "\": ");
  }
  absl::StrAppend(&text, state.reason);
  if (!state.message.empty()) absl::StrAppend(&text, ": ", state.message);
  return text;
}

}  // namespace kim::kube
