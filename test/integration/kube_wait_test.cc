// `kim system install` waiting for the builder's pods and `kim system uninstall` waiting for
// the deletions, against a real kube-apiserver + etcd without kubelet, scheduler or controller
// manager: the test creates the pod the DaemonSet controller would and writes the status the
// kubelet would (ready, stuck in an image pull, in a crash loop, still creating), and leaves
// deleted namespaces unfinalized (no namespace controller) until it cleans up.
// peers: kube-apiserver
// lock: builder-node-role
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/kube/client.h"
#include "lib/kube/installer_objects.h"
#include "test/support/kube_cluster.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"

namespace kim::kube {
namespace {

using kim::test::ContainerReport;
using kim::test::CreateBuilderPod;
using kim::test::CreateNode;
using kim::test::Kim;
using kim::test::KubeAdmin;
using kim::test::ObjectNames;
using kim::test::PeerEnv;
using kim::test::ReleaseNamespace;
using kim::test::Run;
using kim::test::SetPodStatus;
using kim::test::UniqueName;

// Waits (up to 20 s) until `kim system install` has created the DaemonSet in `ns`.
void WaitForDaemonSet(Client& client, const std::string& ns) {
  for (int i = 0; i < 400; ++i) {
    if (client.Get(kDaemonSets, ns, kBuilderName).ok()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("the install did not create daemonset " << ns << "/builder");
}

// Runs `kim system install` for `node` in the background with the extra `flags` (Catch2's
// macros stay on the test's thread: the caller reports the output).
std::future<test::ProcessOutput> InstallInBackground(const std::string& ns, const std::string& node,
                                                     std::vector<std::string> flags) {
  std::vector<std::string> argv = {KIM_BINARY, "-k", PeerEnv("KIM_TEST_KUBECONFIG"), "-n", ns,
                                   "system", "install", "--selector",
                                   "kubernetes.io/hostname=" + node};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return std::async(std::launch::async, [argv] { return Run(argv); });
}

// Removes a test's namespace (playing namespace controller) and node.
void RemoveNamespaceAndNode(Client& client, const std::string& ns, const std::string& node) {
  (void)client.Delete(kNamespaces, "", ns);
  ReleaseNamespace(client, ns);
  (void)client.Delete(kNodes, "", node);
}

const ContainerReport kInitDone{.name = "rshared-mounts",
                                .state = R"({"terminated":{"exitCode":0,"reason":"Completed"}})"};

// An install (`kim system install FLAGS`, in the background) whose builder pod, once the
// DaemonSet exists, reports the given container statuses (playing DaemonSet controller and
// kubelet); what it printed, its pod and how long it took.
struct ReportedInstall {
  std::string ns, node;
  Json pod;
  test::ProcessOutput out;
  absl::Duration took;
};
ReportedInstall InstallWhilePodReports(const std::string& prefix, std::vector<std::string> flags,
                                       const std::string& phase,
                                       const std::vector<ContainerReport>& containers) {
  auto admin = KubeAdmin();
  ReportedInstall run{.ns = UniqueName(prefix), .node = UniqueName("kim-node")};
  // The "kubelet" refuses log requests at once (there is none).
  CreateNode(*admin, run.node, "10.11.12.17", test::FreeLoopbackPort());
  const absl::Time start = absl::Now();
  auto install = InstallInBackground(run.ns, run.node, std::move(flags));
  WaitForDaemonSet(*admin, run.ns);
  run.pod = CreateBuilderPod(*admin, run.ns, run.node);
  SetPodStatus(*admin, run.pod, phase, {kInitDone}, containers);
  run.out = install.get();
  run.took = absl::Now() - start;
  return run;
}

TEST_CASE("install fails fast, naming --agent-image, when the agent image cannot be pulled",
          "[kube][install][wait]") {
  const auto run = InstallWhilePodReports(
      "kim-it-pull", {"--timeout", "2m", "--agent-image", "example.com/kim-agent:missing"},
      "Pending",
      {{.name = "buildkitd", .ready = true},
       {.name = "agent",
        .state = R"({"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image \"example.com/kim-agent:missing\""}})"}});
  INFO("stderr: " << run.out.err);
  CHECK(run.out.exit_code == 1);
  CHECK(run.took < absl::Seconds(20));  // not the 2m timeout
  CHECK(run.out.err.find(absl::StrCat(
            "Error: builder pod ", run.ns, "/", JsonString(run.pod, {"metadata", "name"}),
            ": container \"agent\": ImagePullBackOff: Back-off pulling image "
            "\"example.com/kim-agent:missing\" (is the image on the node or in a registry it can "
            "pull from? choose another with --agent-image)\n")) != std::string::npos);
  RemoveNamespaceAndNode(*KubeAdmin(), run.ns, run.node);
}

TEST_CASE("install fails fast with the reason and exit when buildkitd is in a crash loop",
          "[kube][install][wait]") {
  const auto run = InstallWhilePodReports(
      "kim-it-crash", {"--timeout", "2m"}, "Running",
      {{.name = "buildkitd",
        .restarts = 3,
        .state = R"({"waiting":{"reason":"CrashLoopBackOff","message":"back-off 40s restarting failed container=buildkitd"}})",
        .last_state = R"({"terminated":{"exitCode":1,"reason":"Error"}})"},
       {.name = "agent", .ready = true}});
  INFO("stderr: " << run.out.err);
  CHECK(run.out.exit_code == 1);
  CHECK(run.took < absl::Seconds(20));
  CHECK(run.out.err.find(absl::StrCat(
            "Error: builder pod ", run.ns, "/", JsonString(run.pod, {"metadata", "name"}),
            ": container \"buildkitd\": CrashLoopBackOff: back-off 40s restarting failed "
            "container=buildkitd; restarted 3 times, last run exited with code 1\n")) !=
        std::string::npos);
  // There is no kubelet to give the logs: said briefly, and the install still fails on the
  // pod's state, not on the logs.
  CHECK(run.out.err.find("(no logs of container \"buildkitd\" (previous run): ") != std::string::npos);
  CHECK(run.out.err.find("--buildkit-image") == std::string::npos);
  RemoveNamespaceAndNode(*KubeAdmin(), run.ns, run.node);
}

TEST_CASE("install gives up at --timeout naming what it waited for and the pod's state",
          "[kube][install][wait]") {
  const auto run = InstallWhilePodReports(
      "kim-it-slow", {"--timeout", "5s"}, "Pending",
      {{.name = "buildkitd", .state = R"({"waiting":{"reason":"ContainerCreating"}})"},
       {.name = "agent", .state = R"({"waiting":{"reason":"ContainerCreating"}})"}});
  INFO("stderr: " << run.out.err);
  CHECK(run.out.exit_code == 1);
  CHECK(run.took >= absl::Seconds(5));
  CHECK(run.took < absl::Seconds(15));
  CHECK(run.out.err.find(absl::StrCat(
            "Error: timed out after 5s waiting for the builder on node `", run.node, "`: pod ",
            JsonString(run.pod, {"metadata", "name"}),
            ": container \"buildkitd\": ContainerCreating (kubectl -n ", run.ns,
            " describe daemonset,pods -l ")) != std::string::npos);
  RemoveNamespaceAndNode(*KubeAdmin(), run.ns, run.node);
}

TEST_CASE("a timeout names the kubelet's warning when the pod's sandbox cannot be made",
          "[kube][install][wait]") {
  auto admin = KubeAdmin();
  const std::string ns = UniqueName("kim-it-sandbox"), node = UniqueName("kim-node");
  CreateNode(*admin, node, "10.11.12.18", test::FreeLoopbackPort());
  auto install = InstallInBackground(ns, node, {"--timeout", "5s"});
  WaitForDaemonSet(*admin, ns);
  const Json pod = CreateBuilderPod(*admin, ns, node);
  const std::string name = JsonString(pod, {"metadata", "name"});
  // what the kubelet reports when every try to make the pod's sandbox fails
  auto event = Json::parse(absl::StrCat(
      R"({"metadata":{"name":")", name, R"(.sandbox","namespace":")", ns, R"("},)",
      R"("involvedObject":{"kind":"Pod","name":")", name, R"(","namespace":")", ns, R"("},)",
      R"("reason":"FailedCreatePodSandBox","type":"Warning","count":3,)",
      R"("message":"failed to mount rootfs component: invalid argument",)",
      R"("lastTimestamp":"2026-01-01T00:00:00Z","source":{"component":"kubelet"}})"));
  REQUIRE(admin->Create(kEvents, ns, event).ok());
  SetPodStatus(*admin, pod, "Pending", {}, {});
  const auto out = install.get();
  INFO("stderr: " << out.err);
  CHECK(out.exit_code == 1);
  CHECK(out.err.find(absl::StrCat("; the kubelet reports ", name,
                                  ": FailedCreatePodSandBox: failed to mount rootfs component: "
                                  "invalid argument (kubectl -n ")) != std::string::npos);
  RemoveNamespaceAndNode(*admin, ns, node);
}

// A fresh node and `kim system install --no-wait` for it in a fresh namespace; {ns, node}.
std::pair<std::string, std::string> InstallWithoutWaiting(const std::string& prefix) {
  const std::string ns = UniqueName(prefix);
  const std::string node = UniqueName("kim-node");
  CreateNode(*KubeAdmin(), node, "10.11.12.15");
  REQUIRE(Kim({"-k", PeerEnv("KIM_TEST_KUBECONFIG"), "-n", ns, "system", "install", "--no-wait",
               "--selector", "kubernetes.io/hostname=" + node}).exit_code == 0);
  return {ns, node};
}

TEST_CASE("uninstall removes the node label first and names what holds the namespace at --timeout",
          "[kube][uninstall]") {
  auto admin = KubeAdmin();
  const std::string kubeconfig = PeerEnv("KIM_TEST_KUBECONFIG");
  const auto [ns, node] = InstallWithoutWaiting("kim-it-stuck");
  // Something in the namespace, and a finalizer nobody removes (no controller manager runs,
  // so its "kubernetes" finalizer stays too).
  REQUIRE(admin->Create(kube::Resource{"", "v1", "configmaps", "ConfigMap", true}, ns,
                        Json::parse(R"({"metadata":{"name":"left-behind"},"data":{"a":"b"}})")).ok());
  REQUIRE(admin->MergePatch(kNamespaces, "", ns,
                            Json::parse(R"({"metadata":{"finalizers":["kim.test/hold"]}})")).ok());
  const absl::Time start = absl::Now();
  const auto out = Kim({"-k", kubeconfig, "-n", ns, "system", "uninstall", "--timeout", "3s"});
  CHECK(out.exit_code == 1);
  CHECK(absl::Now() - start < absl::Seconds(15));
  CHECK(out.err.find(absl::StrCat("Error: timed out after 3s waiting for namespaces \"", ns,
                                  "\" to be deleted: finalizers kubernetes, kim.test/hold; still "
                                  "in it: configmaps/left-behind (the namespace controller")) !=
        std::string::npos);
  // The label went first, and is gone although the wait failed.
  const size_t unlabelled = out.err.find("Removing node-role `builder` from node `" + node + "`");
  CHECK(unlabelled != std::string::npos);
  CHECK(unlabelled < out.err.find("Deleting the builder from namespace"));
  CHECK(ObjectNames(*admin, kNodes, "", kBuilderNodeLabel).count(node) == 0);
  CHECK(ObjectNames(*admin, kDaemonSets, ns).empty());
  RemoveNamespaceAndNode(*admin, ns, node);
  CHECK(absl::IsNotFound(admin->Get(kNamespaces, "", ns).status()));
}

TEST_CASE("uninstall --no-wait deletes and returns at once", "[kube][uninstall]") {
  auto admin = KubeAdmin();
  const std::string kubeconfig = PeerEnv("KIM_TEST_KUBECONFIG");
  const auto [ns, node] = InstallWithoutWaiting("kim-it-nowait");
  // Without --no-wait this would wait the whole 5m default: nothing finalizes the namespace.
  const auto out = Kim({"-k", kubeconfig, "-n", ns, "system", "uninstall", "--no-wait"});
  CHECK(out.exit_code == 0);
  CHECK(out.err.find("Not waiting for the deletions to finish (--no-wait)") != std::string::npos);
  auto deleting = admin->Get(kNamespaces, "", ns);
  REQUIRE(deleting.ok());
  CHECK(JsonAt(*deleting, {"metadata", "deletionTimestamp"}) != nullptr);
  CHECK(ObjectNames(*admin, kNodes, "", kBuilderNodeLabel).count(node) == 0);
  CHECK(ObjectNames(*admin, kDaemonSets, ns).empty());
  RemoveNamespaceAndNode(*admin, ns, node);
}

}  // namespace
}  // namespace kim::kube
