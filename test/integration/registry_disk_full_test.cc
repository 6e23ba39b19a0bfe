// A registry whose disk fills up during a push: a docker-registry of the test's own, its storage
// on a tmpfs of a few MB that the test mounts, gets an image bigger than that through kim-agent.
// The push fails within seconds with an error that says what happened, the registry holds no tag
// of it, and once the disk has room (the tmpfs remounted bigger) the same push succeeds.
// peers: containerd registry
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/images/containerd_image_service.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"
#include "test/support/temp_dir.h"
#include "test/support/test_agent.h"
#include "test/support/test_images.h"

using kim::test::PeerEnv;
using kim::test::Run;
using kim::test::TempDir;

namespace {

using Clock = std::chrono::steady_clock;

// Mounts a tmpfs of `megabytes` MB at `dir` for the life of the object.
class SmallDisk {
 public:
  SmallDisk(const std::string& dir, int megabytes) : dir_(dir) {
    std::filesystem::create_directories(dir);
    const auto mounted = Run({"/bin/mount", "-t", "tmpfs", "-o",
                              absl::StrCat("size=", megabytes, "m"), "kim-test-full", dir});
    INFO("mount: " << mounted.err);
    REQUIRE(mounted.exit_code == 0);
  }
  ~SmallDisk() { (void)Run({"/bin/umount", "-l", dir_}); }
  // Gives the disk `megabytes` MB in all.
  void Grow(int megabytes) {
    const auto grown = Run({"/bin/mount", "-o", absl::StrCat("remount,size=", megabytes, "m"), dir_});
    INFO("remount: " << grown.err);
    REQUIRE(grown.exit_code == 0);
  }

 private:
  std::string dir_;
};

}  // namespace

TEST_CASE("registry disk full: a push fails clearly leaving no tag and works once there is room",
          "[push][faults]") {
  TempDir dir("kim-full-registry");
  SmallDisk disk(dir / "data", 8);
  const int port = kim::test::FreeLoopbackPort();
  const std::string registry = absl::StrCat("127.0.0.1:", port);
  std::ofstream(dir / "config.yml") << "version: 0.1\n"
                                       "log: {level: info}\n"
                                       "storage:\n"
                                       "  filesystem: {rootdirectory: " << dir / "data" << "}\n"
                                       "  delete: {enabled: true}\n"
                                       "http:\n"
                                       "  addr: " << registry << "\n";
  kim::test::Daemon server({"/usr/bin/docker-registry", "serve", dir / "config.yml"});
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    up = Run({"/usr/bin/curl", "-fsS", "--max-time", "1", "http://" + registry + "/v2/"}).exit_code == 0;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(server.err());
  REQUIRE(up);

  auto local = kim::NewContainerdImageService({.socket = PeerEnv("KIM_TEST_CONTAINERD_SOCKET")});
  REQUIRE(local.ok());
  const std::string repository = absl::StrCat("full-", getpid());
  const std::string ref = absl::StrCat(registry, "/", repository, ":v1");
  kim::test::LoadRandomImage(**local, ref, 24);  // three times the disk

  kim::test::TestAgent agent;
  const auto start = Clock::now();
  const auto pushed = agent.Kim({"push", ref});
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  INFO("kim push: exit " << pushed.exit_code << " after " << seconds << " s:\n" << pushed.err);
  WARN("registry disk full: kim push failed after " << seconds << " s: " << pushed.err);
  CHECK(pushed.exit_code == 1);
  CHECK(seconds < 15);  // four tries, 0.5 + 1 + 2 s apart
  CHECK(absl::StrContains(pushed.err, "registry " + registry));
  CHECK(absl::StrContains(pushed.err, "the registry's storage is full: no space left on device"));
  CHECK(kim::test::RegistryTags(registry, repository).empty());

  disk.Grow(256);
  const auto again = agent.Kim({"push", ref});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(kim::test::RegistryTags(registry, repository) == "\"v1\"");
  (void)(*local)->Remove({ref}, false);
}
