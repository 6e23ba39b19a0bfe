// `kim build` when buildkitd dies in the middle of a build: a clear error within seconds, not a
// hang. Has its own peers (this test kills their buildkitd).
// peers: buildkitd
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"

using kim::test::PeerEnv;

TEST_CASE("build: buildkitd killed mid-build gives a clear error within seconds",
          "[build][buildkitd]") {
  std::string dir = (std::filesystem::temp_directory_path() / "kim-build-gone-XXXXXX").string();
  REQUIRE(mkdtemp(dir.data()) != nullptr);
  std::ofstream(dir + "/Dockerfile") << "FROM " << PeerEnv("KIM_TEST_REGISTRY")
                                     << "/busybox:1\nRUN echo started-sleeping && sleep 60\n";
  const std::string tls = PeerEnv("KIM_TEST_BUILDKIT_TLS_DIR");
  kim::test::Daemon kim({KIM_BINARY, "build", "--buildkit-addr", PeerEnv("KIM_TEST_BUILDKIT_ADDR"),
                         "--tlscacert", tls + "/ca.pem", "--tlscert", tls + "/cert.pem",
                         "--tlskey", tls + "/key.pem", "--progress", "plain", "--no-cache", dir});
  REQUIRE_FALSE(kim.WaitForLine("started-sleeping", 30).empty());

  // The buildkitd of this test's own peers, by the PID scripts/peers recorded.
  std::ifstream pids(PeerEnv("KIM_PEERS_DIR") + "/pids");
  std::string name;
  int pid = 0, buildkitd = 0;
  while (pids >> name >> pid) {
    if (name == "buildkitd") buildkitd = pid;
  }
  REQUIRE(buildkitd > 0);
  REQUIRE(kill(buildkitd, SIGKILL) == 0);
  const auto start = std::chrono::steady_clock::now();
  // Wait for kim to exit by itself (Stop with signal 0 only waits).
  const int code = kim.Stop(0, 10);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(kim.err());
  CHECK(code == 1);
  CHECK(seconds < 5);
  CHECK(absl::StrContains(kim.err(), "cannot reach buildkitd"));
  std::filesystem::remove_all(dir);
}
