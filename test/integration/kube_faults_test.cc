// The API server going away during `kim system install`'s wait, on a kube-apiserver + etcd of
// the test's own (the shared one serves concurrent tests): restarted, the wait rides it out and
// the install completes once the builder's pod is ready; killed for longer than --timeout, the
// install fails at once with an error naming the API server and how to go on, and once it is
// back the next install completes. The test plays DaemonSet controller and kubelet as
// kube_wait_test.cc does (this API server has neither).
// peers: kube-apiserver
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/installer_objects.h"
#include "test/support/kube_cluster.h"
#include "test/support/peers.h"
#include "test/support/private_peers.h"
#include "test/support/run_process.h"

namespace kim::kube {
namespace {

using Clock = std::chrono::steady_clock;
using kim::test::Daemon;
using kim::test::PrivatePeers;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// `kim system install` for `node` into `ns` with `timeout`, in the background.
std::unique_ptr<Daemon> Install(const std::string& kubeconfig, const std::string& ns,
                                const std::string& node, const std::string& timeout) {
  return std::make_unique<Daemon>(std::vector<std::string>{
      KIM_BINARY, "-k", kubeconfig, "-n", ns, "system", "install", "--selector",
      "kubernetes.io/hostname=" + node, "--timeout", timeout});
}

// Waits until `install` waits for the builder's pod: its DaemonSet is applied and final.
void WaitUntilWaiting(Daemon& install) {
  INFO(install.err());
  REQUIRE_FALSE(install.WaitForLine("Waiting for the builder on node", 60).empty());
}

// Plays DaemonSet controller and kubelet: the builder's pod on `node`, running and ready.
void ReadyPod(const std::string& kubeconfig, const std::string& ns, const std::string& node) {
  auto admin = test::KubeClient(kubeconfig);  // a new client: the old connections are gone
  test::SetPodReady(*admin, test::CreateBuilderPod(*admin, ns, node));
}

}  // namespace

TEST_CASE("kube faults: the API server restarts during the install wait and the install completes",
          "[kube][install][faults]") {
  PrivatePeers peers("kube-apiserver");
  const std::string kubeconfig = peers.Env("KIM_TEST_KUBECONFIG");
  const std::string ns = test::UniqueName("kim-it-restart"), node = test::UniqueName("kim-node");
  test::CreateNode(*test::KubeClient(kubeconfig), node, "10.11.12.17", test::FreeLoopbackPort());

  auto install = Install(kubeconfig, ns, node, "3m");
  WaitUntilWaiting(*install);
  // Down for seconds, surely: killed, then started again 3 s later (startup adds a few more).
  const auto restart = Clock::now();
  peers.Kill("kube-apiserver");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  peers.Restart("kube-apiserver");
  const double down = SecondsSince(restart);
  ReadyPod(kubeconfig, ns, node);
  const auto ready = Clock::now();
  const int code = install->Wait(60);
  const double after_ready = SecondsSince(ready);
  INFO("kim system install: exit " << code << "\n" << install->err());
  WARN("API server restart: down (killed, 3 s, started) " << down << " s; install done " << after_ready
       << " s after the pod was ready");
  CHECK(code == 0);
  CHECK(after_ready < 10);
  CHECK(absl::StrContains(install->err(), "Waiting for the API server to answer again"));
  CHECK(absl::StrContains(install->err(), "The API server answers again"));
  CHECK(absl::StrContains(install->err(), "Builder ready"));
}

TEST_CASE("kube faults: the API server gone past --timeout gives a clear error and the next install works",
          "[kube][install][faults]") {
  PrivatePeers peers("kube-apiserver");
  const std::string kubeconfig = peers.Env("KIM_TEST_KUBECONFIG");
  const std::string ns = test::UniqueName("kim-it-gone"), node = test::UniqueName("kim-node");
  test::CreateNode(*test::KubeClient(kubeconfig), node, "10.11.12.17", test::FreeLoopbackPort());

  auto install = Install(kubeconfig, ns, node, "8s");
  const auto start = Clock::now();
  WaitUntilWaiting(*install);
  peers.Kill("kube-apiserver");
  const double killed_at = SecondsSince(start);
  const int code = install->Wait(30);
  const double failed_at = SecondsSince(start);
  INFO("kim system install: exit " << code << "\n" << install->err());
  WARN("API server killed " << killed_at << " s into the install: it failed at " << failed_at
       << " s (--timeout 8s): " << install->err().substr(install->err().rfind("Error: ")));
  CHECK(code == 1);
  CHECK(failed_at < 8 + 4);  // at --timeout, not later
  CHECK(absl::StrContains(install->err(), "Error: lost the API server while waiting for the "
                                          "builder on node `" + node + "`"));
  CHECK(absl::StrContains(install->err(), "run kim system install again"));

  peers.Restart("kube-apiserver");
  auto again = Install(kubeconfig, ns, node, "2m");
  WaitUntilWaiting(*again);
  ReadyPod(kubeconfig, ns, node);
  const int again_code = again->Wait(60);
  INFO("second kim system install: exit " << again_code << "\n" << again->err());
  CHECK(again_code == 0);
  CHECK(absl::StrContains(again->err(), "Builder ready"));
}

}  // namespace kim::kube
