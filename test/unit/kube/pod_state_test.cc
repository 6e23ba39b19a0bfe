// Tests for lib/kube/pod_state.h: pod statuses as a kubelet writes them, classified.
#include "lib/kube/pod_state.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"

namespace kim::kube {
namespace {

// A builder-like pod (one init container, two containers) with `status` as given.
Json Pod(const std::string& status) {
  return Json::parse(absl::StrCat(
      R"({"metadata":{"name":"builder-x7k2q","namespace":"kube-image"},)",
      R"("spec":{"nodeName":"n1","initContainers":[{"name":"rshared-mounts","image":"bk:1"}],)",
      R"("containers":[{"name":"buildkitd","image":"bk:1"},{"name":"agent","image":"agent:1"}]},)",
      R"("status":)", status, "}"));
}

const char kInitDone[] =
    R"([{"name":"rshared-mounts","ready":true,"restartCount":0,"image":"bk:1","imageID":"",)"
    R"("state":{"terminated":{"exitCode":0,"reason":"Completed"}}}])";

std::string Running(const std::string& name, bool ready) {
  return absl::StrCat(R"({"name":")", name, R"(","ready":)", ready ? "true" : "false",
                      R"(,"restartCount":0,"state":{"running":{"startedAt":"2025-01-01T00:00:00Z"}}})");
}

std::string Status(const std::string& phase, const std::string& ready_condition,
                   const std::string& containers, const std::string& init = kInitDone) {
  return absl::StrCat(R"({"phase":")", phase, R"(","conditions":[{"type":"PodScheduled","status":"True"},)",
                      R"({"type":"Ready","status":")", ready_condition, R"("}],)",
                      R"("initContainerStatuses":)", init, R"(,"containerStatuses":[)", containers,
                      "]}");
}

TEST_CASE("pod state: all containers ready and Ready=True is ready", "[kube][pod]") {
  PodState state = ClassifyPod(Pod(Status("Running", "True",
                                          Running("buildkitd", true) + "," + Running("agent", true))));
  CHECK(state.kind == PodState::Kind::kReady);
}

TEST_CASE("pod state: a container not ready yet is waiting, naming it", "[kube][pod]") {
  PodState state = ClassifyPod(Pod(Status("Running", "False",
                                          Running("buildkitd", true) + "," + Running("agent", false))));
  CHECK(state.kind == PodState::Kind::kWaiting);
  CHECK(state.container == "agent");
  CHECK(DescribePodState(state) == "container \"agent\": Running: not ready yet (readiness probe)");

  // Containers ready but the pod condition not (yet) True: still waiting.
  state = ClassifyPod(Pod(Status("Running", "False",
                                 Running("buildkitd", true) + "," + Running("agent", true))));
  CHECK(state.kind == PodState::Kind::kWaiting);

  // A status listing only one of the two containers is not ready either.
  state = ClassifyPod(Pod(Status("Running", "True", Running("buildkitd", true))));
  CHECK(state.kind == PodState::Kind::kWaiting);
}

TEST_CASE("pod state: ContainerCreating and PodInitializing are waiting", "[kube][pod]") {
  const std::string creating =
      R"({"name":"agent","ready":false,"restartCount":0,"state":{"waiting":{"reason":"ContainerCreating"}}})";
  PodState state = ClassifyPod(Pod(Status("Pending", "False", Running("buildkitd", false) + "," + creating)));
  CHECK(state.kind == PodState::Kind::kWaiting);
  CHECK(DescribePodState(state) == "container \"buildkitd\": Running: not ready yet (readiness probe)");

  const std::string init_running =
      R"([{"name":"rshared-mounts","ready":false,"restartCount":0,"state":{"running":{}}}])";
  state = ClassifyPod(Pod(Status("Pending", "False", creating, init_running)));
  CHECK(state.kind == PodState::Kind::kWaiting);
  CHECK(state.init_container);
  CHECK(DescribePodState(state) == "init container \"rshared-mounts\": Running");
}

TEST_CASE("pod state: image pull failures fail with the container, reason and message",
          "[kube][pod]") {
  for (const std::string reason : {"ImagePullBackOff", "ErrImagePull", "InvalidImageName"}) {
    const std::string agent = absl::StrCat(
        R"({"name":"agent","ready":false,"restartCount":0,"image":"agent:1","state":{"waiting":{"reason":")",
        reason, R"(","message":"Back-off pulling image \"agent:1\""}}})");
    PodState state = ClassifyPod(Pod(Status("Pending", "False", Running("buildkitd", true) + "," + agent)));
    INFO(reason);
    CHECK(state.kind == PodState::Kind::kFailed);
    CHECK(state.container == "agent");
    CHECK_FALSE(state.init_container);
    CHECK(state.reason == reason);
    CHECK(state.image == "agent:1");
    CHECK(state.image_pull);
    CHECK_FALSE(state.previous_logs);
    CHECK(DescribePodState(state) ==
          absl::StrCat("container \"agent\": ", reason, ": Back-off pulling image \"agent:1\""));
  }
}

TEST_CASE("pod state: a crash loop fails with the last exit and asks for the previous logs",
          "[kube][pod]") {
  const std::string buildkitd =
      R"({"name":"buildkitd","ready":false,"restartCount":4,)"
      R"("state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 1m20s restarting failed container=buildkitd"}},)"
      R"("lastState":{"terminated":{"exitCode":1,"reason":"Error"}}})";
  PodState state = ClassifyPod(Pod(Status("Running", "False", buildkitd + "," + Running("agent", true))));
  CHECK(state.kind == PodState::Kind::kFailed);
  CHECK(state.reason == "CrashLoopBackOff");
  CHECK(state.container == "buildkitd");
  CHECK(state.restart_count == 4);
  CHECK(state.previous_logs);
  CHECK_FALSE(state.image_pull);
  CHECK(state.message ==
        "back-off 1m20s restarting failed container=buildkitd; restarted 4 times, last run exited "
        "with code 1");
}

TEST_CASE("pod state: configuration errors fail", "[kube][pod]") {
  for (const std::string reason : {"CreateContainerConfigError", "CreateContainerError", "RunContainerError"}) {
    const std::string agent = absl::StrCat(
        R"({"name":"agent","ready":false,"restartCount":0,"state":{"waiting":{"reason":")", reason,
        R"(","message":"secret \"kim-tls-server\" not found"}}})");
    PodState state = ClassifyPod(Pod(Status("Pending", "False", Running("buildkitd", false) + "," + agent)));
    INFO(reason);
    CHECK(state.kind == PodState::Kind::kFailed);
    CHECK(state.reason == reason);
    CHECK(state.message == "secret \"kim-tls-server\" not found");
  }
}

TEST_CASE("pod state: a failing init container fails the pod", "[kube][pod]") {
  const std::string init_failed =
      R"([{"name":"rshared-mounts","ready":false,"restartCount":0,)"
      R"("state":{"terminated":{"exitCode":2,"reason":"Error","message":"nsenter: not permitted"}}}])";
  const std::string waiting =
      R"({"name":"buildkitd","ready":false,"restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}})";
  PodState state = ClassifyPod(Pod(Status("Pending", "False", waiting, init_failed)));
  CHECK(state.kind == PodState::Kind::kFailed);
  CHECK(state.init_container);
  CHECK(state.container == "rshared-mounts");
  CHECK(state.image == "bk:1");
  CHECK_FALSE(state.previous_logs);  // the failed run is the current one
  CHECK(DescribePodState(state) ==
        "init container \"rshared-mounts\": Error: exited with code 2: nsenter: not permitted");

  // Restarted and in a crash loop: the previous run's logs.
  const std::string init_loop =
      R"([{"name":"rshared-mounts","ready":false,"restartCount":3,)"
      R"("state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{"terminated":{"exitCode":2}}}])";
  state = ClassifyPod(Pod(Status("Pending", "False", waiting, init_loop)));
  CHECK(state.kind == PodState::Kind::kFailed);
  CHECK(state.init_container);
  CHECK(state.previous_logs);
}

TEST_CASE("pod state: a regular container that exited is waiting for its restart", "[kube][pod]") {
  const std::string exited =
      R"({"name":"agent","ready":false,"restartCount":1,"state":{"terminated":{"exitCode":1,"reason":"Error"}}})";
  PodState state = ClassifyPod(Pod(Status("Running", "False", Running("buildkitd", true) + "," + exited)));
  CHECK(state.kind == PodState::Kind::kWaiting);
  CHECK(DescribePodState(state) == "container \"agent\": Error: exited with code 1");
}

TEST_CASE("pod state: unscheduled, pending, terminating and failed pods", "[kube][pod]") {
  PodState state = ClassifyPod(Pod(
      R"({"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable","message":"0/1 nodes are available"}]})"));
  CHECK(state.kind == PodState::Kind::kWaiting);
  CHECK(DescribePodState(state) == "Unschedulable: 0/1 nodes are available");

  state = ClassifyPod(Pod(R"({})"));
  CHECK(state.kind == PodState::Kind::kWaiting);
  CHECK(DescribePodState(state) == "Pending");

  Json terminating = Pod(Status("Running", "True", Running("buildkitd", true) + "," + Running("agent", true)));
  terminating["metadata"]["deletionTimestamp"] = Json::string("2025-01-01T00:00:00Z");
  state = ClassifyPod(terminating);
  CHECK(state.kind == PodState::Kind::kWaiting);
  CHECK(state.reason == "Terminating");

  state = ClassifyPod(Pod(R"({"phase":"Failed","reason":"Evicted","message":"The node was low on resource: memory."})"));
  CHECK(state.kind == PodState::Kind::kFailed);
  CHECK(DescribePodState(state) == "Evicted: The node was low on resource: memory.");
}

}  // namespace
}  // namespace kim::kube
