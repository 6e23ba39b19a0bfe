// Faults under kim-agent, with real peers: the agent killed in the middle of a pull and of a
// push, and containerd killed in the middle of a pull (a private containerd, started for the
// test, so the shared one never stops). Each time the CLI gives a clear error within seconds,
// nothing half made is left (no image in containerd, no tag in the registry), and once the
// killed daemon is back the same command succeeds.
// peers: containerd registry
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/images/containerd_image_service.h"
#include "test/support/peers.h"
#include "test/support/private_peers.h"
#include "test/support/run_process.h"
#include "test/support/test_agent.h"
#include "test/support/test_images.h"

using kim::test::Daemon;
using kim::test::PeerEnv;
using kim::test::PrivatePeers;
using kim::test::Run;
using kim::test::TestAgent;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// How long the CLI may take to report a daemon that died under it.
constexpr double kErrorWithinSeconds = 5;
// The layer of the images interrupted here: big enough that a pull or push takes seconds.
constexpr int kLayerMegabytes = 192;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Unique(const std::string& what) {
  return absl::StrCat(what, "-", getpid(), "-", absl::ToUnixMillis(absl::Now()) % 100000000);
}

std::unique_ptr<kim::ImageService> Containerd(const std::string& socket) {
  auto service = kim::NewContainerdImageService({.socket = socket});
  INFO(service.status());
  REQUIRE(service.ok());
  return *std::move(service);
}

// True when containerd at `socket` has an image named `ref` (kim in local mode lists them).
bool HasImage(const std::string& socket, const std::string& ref) {
  const auto listed = Run({KIM_BINARY, "--containerd-socket", socket, "images", "--format",
                           "{{.Repository}}:{{.Tag}}"});
  INFO(listed.err);
  REQUIRE(listed.exit_code == 0);
  return absl::StrContains("\n" + listed.out, "\n" + ref + "\n");
}

// Waits (up to 30 s) until `ready()`; fails the test with `what` when it never is.
void WaitUntil(const std::function<bool()>& ready, const std::string& what) {
  for (int i = 0; i < 600; ++i) {
    if (ready()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("timed out waiting until " << what);
}

// True while containerd at `socket` is receiving the blob `digest` (an active ingest).
bool Ingesting(const std::string& socket, const std::string& digest) {
  const auto active = Run({"/usr/bin/ctr", "-a", socket, "-n", "k8s.io", "content", "active"});
  return absl::StrContains(active.out, digest.substr(digest.find(':') + 1));
}

// The bytes the registry peer has received so far into uploads of `repository`.
uintmax_t UploadedBytes(const std::string& repository) {
  const fs::path uploads = fs::path(PeerEnv("KIM_PEERS_DIR")) /
                           "registry/data/docker/registry/v2/repositories" / repository / "_uploads";
  std::error_code error;
  uintmax_t total = 0;
  for (auto it = fs::recursive_directory_iterator(uploads, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error) && it->path().filename() == "data") total += it->file_size(error);
  }
  return total;
}

// Waits until `kim` (a command in the background) exits; its exit code and how long it took
// after `since`.
std::pair<int, double> ExitOf(Daemon& kim, Clock::time_point since) {
  const int code = kim.Wait(30);
  return {code, SecondsSince(since)};
}

}  // namespace

TEST_CASE("agent faults: the agent killed mid-pull: clear error and no image and the retry works",
          "[agent][faults]") {
  const std::string socket = PeerEnv("KIM_TEST_CONTAINERD_SOCKET");
  auto local = Containerd(socket);
  const std::string repository = Unique("kim-fault-pull");
  const std::string ref = absl::StrCat(PeerEnv("KIM_TEST_REGISTRY"), "/", repository, ":v1");
  const std::string layer = kim::test::PushRandomImage(*local, ref, kLayerMegabytes);

  auto agent = std::make_unique<TestAgent>();
  auto kim = agent->KimInBackground({"pull", ref});
  REQUIRE_FALSE(agent->daemon->WaitForLine("kim-agent: pull " + ref, 10).empty());
  WaitUntil([&] { return Ingesting(socket, layer); }, "containerd receives the layer");
  const auto killed = Clock::now();
  REQUIRE(agent->daemon->Stop(SIGKILL) == 128 + SIGKILL);
  const auto [code, seconds] = ExitOf(*kim, killed);
  INFO("kim pull: exit " << code << " after " << seconds << " s:\n" << kim->err());
  WARN("agent killed mid-pull: kim pull failed " << seconds << " s after the kill: " << kim->err());
  CHECK(code == 1);
  CHECK(seconds < kErrorWithinSeconds);
  CHECK(absl::StrContains(kim->err(), "Error: "));
  CHECK(absl::StrContains(kim->err(), "kim-agent at " + agent->address));
  CHECK(absl::StrContains(kim->err(), "pull of " + ref));
  // containerd ends the pull with the agent's connection: no image appears, now or later.
  for (int i = 0; i < 6; ++i) {
    CHECK_FALSE(HasImage(socket, ref));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  WaitUntil([&] { return !Ingesting(socket, layer); }, "containerd's pull stops");

  agent = std::make_unique<TestAgent>();  // the agent is back (the kubelet would restart it)
  const auto again = agent->Kim({"pull", ref});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(HasImage(socket, ref));
  (void)local->Remove({ref}, false);
}

TEST_CASE("agent faults: the agent killed mid-push: clear error and no tag and the retry works",
          "[agent][faults]") {
  const std::string socket = PeerEnv("KIM_TEST_CONTAINERD_SOCKET");
  auto local = Containerd(socket);
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY");
  const std::string repository = Unique("kim-fault-push");
  const std::string ref = absl::StrCat(registry, "/", repository, ":v1");
  kim::test::LoadRandomImage(*local, ref, kLayerMegabytes);

  auto agent = std::make_unique<TestAgent>();
  auto kim = agent->KimInBackground({"push", ref});
  REQUIRE_FALSE(agent->daemon->WaitForLine("kim-agent: push " + ref, 10).empty());
  WaitUntil([&] { return UploadedBytes(repository) > (1 << 20); },
            "the registry receives the layer");
  const auto killed = Clock::now();
  REQUIRE(agent->daemon->Stop(SIGKILL) == 128 + SIGKILL);
  const auto [code, seconds] = ExitOf(*kim, killed);
  INFO("kim push: exit " << code << " after " << seconds << " s:\n" << kim->err());
  WARN("agent killed mid-push: kim push failed " << seconds << " s after the kill: " << kim->err());
  CHECK(code == 1);
  CHECK(seconds < kErrorWithinSeconds);
  CHECK(absl::StrContains(kim->err(), "kim-agent at " + agent->address));
  CHECK(absl::StrContains(kim->err(), "push of " + ref));
  CHECK(UploadedBytes(repository) < static_cast<uintmax_t>(kLayerMegabytes) << 20);
  CHECK(kim::test::RegistryTags(registry, repository).empty());  // no manifest was tagged
  CHECK(HasImage(socket, ref));  // the local image is untouched

  agent = std::make_unique<TestAgent>();
  const auto again = agent->Kim({"push", ref});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(kim::test::RegistryTags(registry, repository) == "\"v1\"");
  (void)local->Remove({ref}, false);
}

TEST_CASE("agent faults: containerd killed mid-pull: clear error and no image and the retry works",
          "[agent][faults]") {
  auto shared = Containerd(PeerEnv("KIM_TEST_CONTAINERD_SOCKET"));
  const std::string repository = Unique("kim-fault-containerd");
  const std::string ref = absl::StrCat(PeerEnv("KIM_TEST_REGISTRY"), "/", repository, ":v1");
  const std::string layer = kim::test::PushRandomImage(*shared, ref, kLayerMegabytes);

  PrivatePeers peers("containerd");
  const std::string socket = peers.Env("KIM_TEST_CONTAINERD_SOCKET");
  TestAgent agent(socket);
  auto kim = agent.KimInBackground({"pull", ref});
  REQUIRE_FALSE(agent.daemon->WaitForLine("kim-agent: pull " + ref, 10).empty());
  WaitUntil([&] { return Ingesting(socket, layer); }, "containerd receives the layer");
  const auto killed = Clock::now();
  peers.Kill("containerd");
  const auto [code, seconds] = ExitOf(*kim, killed);
  INFO("kim pull: exit " << code << " after " << seconds << " s:\n" << kim->err());
  WARN("containerd killed mid-pull: kim pull failed " << seconds << " s after the kill: "
       << kim->err());
  CHECK(code == 1);
  CHECK(seconds < kErrorWithinSeconds);
  CHECK(absl::StrContains(kim->err(), "containerd"));
  CHECK(absl::StrContains(kim->err(), "pull of " + ref));
  // While containerd is down the agent answers at once, naming it.
  const auto down = agent.Kim({"images"});
  INFO("kim images while containerd is down: " << down.err);
  CHECK(down.exit_code == 1);
  CHECK(absl::StrContains(down.err, "Error: cannot list images in containerd"));
  CHECK(absl::StrContains(down.err, "(is containerd running? check --containerd-socket)"));
  CHECK_FALSE(absl::StrContains(down.err, "cannot reach kim-agent"));  // the agent answered

  peers.Restart("containerd");
  CHECK_FALSE(HasImage(socket, ref));  // nothing half pulled became an image
  // The same agent, not restarted, serves the containerd that came back.
  const auto again = agent.Kim({"pull", ref});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(HasImage(socket, ref));
}
