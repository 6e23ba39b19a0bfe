// Waiting for kim's pods: list + watch, judged by ClassifyPod, failing fast when stuck.
#include "lib/kube/builder_wait.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "kim/log.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/pod_state.h"

namespace kim::kube {
namespace {

// The DaemonSet's template generation (set by the API server on every template change) and
// the label the DaemonSet controller copies it to on the pods it makes.
constexpr char kTemplateGenerationAnnotation[] = "deprecated.daemonset.template.generation";
constexpr char kTemplateGenerationLabel[] = "pod-template-generation";
constexpr int kLogLines = 20;
// How long the wait rides out an API server it cannot reach (restarting, a control plane being
// upgraded) before it gives up; never longer than the user's --timeout.
constexpr absl::Duration kUnreachableGrace = absl::Seconds(60);

// The node a pod runs on, or, before the scheduler placed it, the node a DaemonSet pod is
// pinned to (the controller's required node affinity on metadata.name).
std::string PodNode(const Json& pod) {
  if (std::string node = JsonString(pod, {"spec", "nodeName"}); !node.empty()) return node;
  const Json* terms = JsonAt(pod, {"spec", "affinity", "nodeAffinity",
                                   "requiredDuringSchedulingIgnoredDuringExecution",
                                   "nodeSelectorTerms"});
  if (terms == nullptr || !terms->is_array()) return "";
  for (const Json& term : terms->as_array()) {
    const Json* fields = JsonAt(term, {"matchFields"});
    if (fields == nullptr || !fields->is_array()) continue;
    for (const Json& field : fields->as_array()) {
      const Json* values = JsonAt(field, {"values"});
      if (JsonString(field, {"key"}) == "metadata.name" && values != nullptr &&
          values->is_array() && values->size() == 1 && values->at(0).is_string()) {
        return values->at(0).as_string();
      }
    }
  }
  return "";
}

// Replaces `pods` with the items of a PodList, by name.
void PodsByName(const Json& pod_list, std::map<std::string, Json>& pods) {
  pods.clear();
  const Json* items = JsonAt(pod_list, {"items"});
  if (items == nullptr || !items->is_array()) return;
  for (const Json& pod : items->as_array()) pods[JsonString(pod, {"metadata", "name"})] = pod;
}

// Where the builder stands on one node.
struct NodeVerdict {
  bool ready = false;
  const Json* pod = nullptr;  // the current pod looked at, if any
  PodState state;
  std::string waiting;        // what it waits for, when not ready
};

NodeVerdict JudgeNode(const std::map<std::string, Json>& pods, const Json& daemonset,
                      const std::string& node) {
  NodeVerdict verdict;
  std::vector<std::string> old;
  for (const auto& [name, pod] : pods) {
    if (PodNode(pod) != node) continue;
    if (!IsCurrentBuilderPod(pod, daemonset)) {
      old.push_back(name);
      continue;
    }
    PodState state = ClassifyPod(pod);
    if (state.kind == PodState::Kind::kFailed && state.container.empty()) {
      // The whole pod ended (evicted, say): the DaemonSet controller deletes and replaces it.
      state.kind = PodState::Kind::kWaiting;
      absl::StrAppend(&state.message, state.message.empty() ? "" : "; ",
                      "to be replaced by the DaemonSet controller");
    }
    // A ready pod wins; else a stuck one; else the first waiting one.
    if (state.kind == PodState::Kind::kReady) {
      verdict.ready = true;
      return verdict;
    }
    if (verdict.pod == nullptr || state.kind == PodState::Kind::kFailed) {
      verdict.pod = &pod;
      verdict.state = std::move(state);
    }
  }
  if (verdict.pod != nullptr) {
    verdict.waiting = absl::StrCat("pod ", JsonString(*verdict.pod, {"metadata", "name"}), ": ",
                                   DescribePodState(verdict.state));
  } else if (!old.empty()) {
    verdict.waiting = absl::StrCat("no pod of the current template yet (old pod ",
                                   absl::StrJoin(old, ", "), " to be replaced)");
  } else {
    verdict.waiting = "no pod yet";
  }
  return verdict;
}

// The flag that chooses the image of a builder container.
std::string ImageFlag(const std::string& container) {
  return container == "agent" ? "--agent-image" : "--buildkit-image";
}

// The last log lines of the container a failure is about, or a short note why there are none.
std::string LogSection(Client& client, const std::string& ns, const std::string& pod,
                       const PodState& state) {
  if (state.container.empty() || state.image_pull) return "";  // never started: no logs
  auto logs = client.PodLogs(ns, pod, {.container = state.container,
                                       .tail_lines = kLogLines,
                                       .previous = state.previous_logs});
  const std::string which = absl::StrCat("container \"", state.container, "\"",
                                         state.previous_logs ? " (previous run)" : "");
  if (!logs.ok()) return absl::StrCat("\n(no logs of ", which, ": ", logs.status().message(), ")");
  std::vector<std::string> lines = absl::StrSplit(*logs, '\n', absl::SkipWhitespace());
  if (lines.empty()) return absl::StrCat("\n(", which, " logged nothing)");
  return absl::StrCat("\nLast log lines of ", which, ":\n  ", absl::StrJoin(lines, "\n  "));
}

absl::Status Failure(Client& client, const BuilderWait& wait, const NodeWait& target,
                     const Json& pod, const PodState& state) {
  const std::string name = JsonString(pod, {"metadata", "name"});
  std::string message = absl::StrCat(target.role, " pod ", wait.namespace_name, "/", name, ": ",
                                     DescribePodState(state));
  if (state.image_pull) {
    absl::StrAppend(&message, " (is the image on the node or in a registry it can pull from? "
                              "choose another with ", ImageFlag(state.container), ")");
  }
  absl::StrAppend(&message, LogSection(client, wait.namespace_name, name, state));
  return absl::FailedPreconditionError(message);
}

// The node, its role and what it waits for, for each node that is not ready.
struct NotReady {
  std::string node, role, what;
};

// "the builder on node `N`: STATE" (or every node's, when there are several).
std::string WaitingLine(const BuilderWait& wait, const std::vector<NotReady>& waiting) {
  if (waiting.size() == 1 && wait.nodes.size() == 1) {
    return absl::StrCat("the ", waiting[0].role, " on node `", waiting[0].node, "`: ",
                        waiting[0].what);
  }
  std::vector<std::string> parts;
  for (const NotReady& each : waiting) {
    parts.push_back(absl::StrCat("node `", each.node, "` (", each.role, "): ", each.what));
  }
  return absl::StrCat("kim's pods (", wait.nodes.size() - waiting.size(), "/", wait.nodes.size(),
                      " nodes ready): ", absl::StrJoin(parts, "; "));
}

// Whether only builder nodes are waited for (the messages then name the builder's pods alone).
bool BuildersOnly(const BuilderWait& wait) {
  return std::all_of(wait.nodes.begin(), wait.nodes.end(),
                     [](const NodeWait& node) { return node.role == "builder"; });
}

// The newest Warning event of each builder pod ("builder-x: FailedCreatePodSandBox: ..."): what
// the kubelet says when a pod is stuck before any container has a state (a sandbox that cannot
// be made, a volume that cannot be mounted). Empty when there is none or events cannot be read.
std::string PodWarnings(Client& client, const std::string& ns) {
  auto events = client.List(kEvents, ns, {.field_selector = "involvedObject.kind=Pod,type=Warning"});
  if (!events.ok()) return "";
  std::map<std::string, std::pair<std::string, std::string>> newest;  // pod -> (time, line)
  const Json* items = JsonAt(*events, {"items"});
  if (items == nullptr || !items->is_array()) return "";
  for (const Json& event : items->as_array()) {
    const std::string pod = JsonString(event, {"involvedObject", "name"});
    if (!absl::StartsWith(pod, std::string(kBuilderName) + "-") &&
        !absl::StartsWith(pod, kAgentDaemonSetPrefix)) {
      continue;
    }
    std::string when = JsonString(event, {"lastTimestamp"});
    if (when.empty()) when = JsonString(event, {"eventTime"});
    auto& slot = newest[pod];
    if (when >= slot.first) {
      slot = {when, absl::StrCat(pod, ": ", JsonString(event, {"reason"}), ": ",
                                 JsonString(event, {"message"}))};
    }
  }
  std::vector<std::string> lines;
  for (const auto& [pod, entry] : newest) lines.push_back(entry.second);
  return absl::StrJoin(lines, "; ");
}

absl::Status Timeout(Client& client, const BuilderWait& wait, const std::string& waiting_for) {
  const std::string warnings = PodWarnings(client, wait.namespace_name);
  return absl::DeadlineExceededError(absl::StrCat(
      "timed out after ", absl::FormatDuration(wait.timeout), " waiting for ", waiting_for,
      warnings.empty() ? "" : absl::StrCat("; the kubelet reports ", warnings),
      " (kubectl -n ", wait.namespace_name, " describe daemonset,pods -l ",
      BuildersOnly(wait) ? kBuilderPodSelector : "app.kubernetes.io/name=kim",
      "; or install with --no-wait)"));
}

}  // namespace

bool IsCurrentBuilderPod(const Json& pod, const Json& daemonset) {
  const std::string uid = JsonString(daemonset, {"metadata", "uid"});
  bool owned = false;
  const Json* owners = JsonAt(pod, {"metadata", "ownerReferences"});
  if (owners != nullptr && owners->is_array()) {
    for (const Json& owner : owners->as_array()) owned = owned || JsonString(owner, {"uid"}) == uid;
  }
  if (!owned) return false;
  const std::string generation =
      JsonString(daemonset, {"metadata", "annotations", kTemplateGenerationAnnotation});
  return generation.empty() || Label(pod, kTemplateGenerationLabel) == generation;
}

NodePodState JudgeNodePods(const Json& pod_list, const Json& daemonset, const std::string& node) {
  std::map<std::string, Json> pods;
  PodsByName(pod_list, pods);
  NodeVerdict verdict = JudgeNode(pods, daemonset, node);
  return {.ready = verdict.ready, .waiting = verdict.waiting};
}

int ReadyBuilderNodes(const Json& pod_list, const Json& daemonset,
                      const std::vector<std::string>& nodes) {
  int ready = 0;
  for (const std::string& node : nodes) ready += JudgeNodePods(pod_list, daemonset, node).ready;
  return ready;
}

absl::Status WaitForKimPods(Client& client, const BuilderWait& wait) {
  const absl::Time start = absl::Now();
  std::map<std::string, Json> pods;
  std::optional<absl::Status> result;
  std::string last_line = "kim's pods to be listed";
  // Judges the pods as they stand; true (with `result` set) when the wait is over.
  auto judge = [&]() -> bool {
    std::vector<NotReady> waiting;
    for (const NodeWait& target : wait.nodes) {
      NodeVerdict verdict = JudgeNode(pods, target.daemonset, target.node);
      if (verdict.pod != nullptr && verdict.state.kind == PodState::Kind::kFailed) {
        result = Failure(client, wait, target, *verdict.pod, verdict.state);
        return true;
      }
      if (!verdict.ready) waiting.push_back({target.node, target.role, verdict.waiting});
    }
    if (waiting.empty()) {
      result = absl::OkStatus();
      return true;
    }
    const std::string line = WaitingLine(wait, waiting);
    if (line != last_line) {
      Say(wait.progress, absl::StrCat("Waiting for ", line, " (",
                                      absl::ToInt64Seconds(absl::Now() - start), "s)"));
      last_line = line;
    }
    return false;
  };
  const ListOptions selector{.label_selector = kKimPodSelector};
  const absl::Duration grace = std::min(kUnreachableGrace, wait.timeout);
  std::optional<absl::Time> unreachable_since;  // when the API server stopped answering
  absl::Status unreachable;
  while (absl::Now() < wait.deadline) {
    auto list = client.List(kPods, wait.namespace_name, selector);
    if (absl::IsUnavailable(list.status())) {
      // Refused, reset or a 5xx: a restarting API server. Ask again every second for a while.
      const absl::Time now = absl::Now();
      if (!unreachable_since) {
        unreachable_since = now;
        Say(wait.progress, absl::StrCat("Waiting for the API server to answer again (",
                                        list.status().message(), ")"));
      }
      unreachable = list.status();
      if (now - *unreachable_since >= grace) break;
      absl::SleepFor(std::clamp(wait.deadline - now, absl::ZeroDuration(), absl::Seconds(1)));
      continue;
    }
    if (!list.ok()) return list.status();
    if (unreachable_since) {
      Say(wait.progress, "The API server answers again");
      unreachable_since.reset();
      last_line.clear();  // say again what we wait for
    }
    PodsByName(*list, pods);
    if (judge()) return *result;
    absl::Status watched = client.Watch(
        kPods, wait.namespace_name, selector, JsonString(*list, {"metadata", "resourceVersion"}),
        wait.deadline, [&](const WatchEvent& event) {
          const std::string name = JsonString(event.object, {"metadata", "name"});
          if (event.type == "DELETED") {
            pods.erase(name);
          } else {
            pods[name] = event.object;
          }
          return judge();
        });
    if (watched.ok()) return *result;
    if (absl::IsDeadlineExceeded(watched)) break;
    if (absl::IsFailedPrecondition(watched)) continue;  // 410 Gone: list again
    // The watch itself broke (a proxy, a dropped connection): list again every second.
    LogDebug(0, absl::StrCat("watch of kim's pods failed, polling: ", watched.message()));
    absl::SleepFor(std::clamp(wait.deadline - absl::Now(), absl::ZeroDuration(), absl::Seconds(1)));
  }
  if (unreachable_since) {
    return absl::UnavailableError(absl::StrCat(
        "lost the API server while waiting for ", last_line, ": no answer for ",
        absl::FormatDuration(absl::Trunc(absl::Now() - *unreachable_since, absl::Seconds(1))),
        " (", unreachable.message(), "); the builder's objects are created: once the API server "
        "is back, run kim system install again to wait for them, or install with --no-wait"));
  }
  return Timeout(client, wait, last_line);
}

}  // namespace kim::kube
