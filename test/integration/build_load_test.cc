// Load on one buildkitd (the peers' own, containerd worker): 4 `kim build`s at once, each with
// its own context and a RUN step, all succeed and each image lands in containerd under its tag.
// peers: buildkitd containerd registry
// lock: buildkitd-cache
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"
#include "test/support/temp_dir.h"

using kim::test::PeerEnv;
using kim::test::ProcessOutput;
using kim::test::Run;
using kim::test::TempDir;

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

TEST_CASE("build load: 4 concurrent builds on one buildkitd all succeed", "[build][load]") {
  constexpr int kBuilds = 4;
  const std::string stem = absl::StrCat("kim-build-load-", getpid(), "-",
                                        absl::ToUnixMillis(absl::Now()) % 100000000);
  std::vector<TempDir> contexts(kBuilds);
  std::vector<std::string> tags;
  for (int i = 0; i < kBuilds; ++i) {
    tags.push_back(absl::StrCat("localhost/", stem, "-", i, ":v1"));
    contexts[i].Write("input.txt", absl::StrCat("context ", i, "\n"));
    contexts[i].Write("Dockerfile", absl::StrCat("FROM ", PeerEnv("KIM_TEST_REGISTRY"),
                                                 "/busybox:1\nCOPY input.txt /input.txt\n"
                                                 "RUN cat /input.txt > /built && echo build-",
                                                 i, " >> /built\n"));
  }
  std::vector<std::pair<ProcessOutput, double>> results(kBuilds);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int i = 0; i < kBuilds; ++i) {
    threads.emplace_back([&, i] {
      const auto began = Clock::now();
      results[i].first = Run({KIM_BINARY, "build", "--buildkit-addr",
                              PeerEnv("KIM_TEST_BUILDKIT_SOCKET"), "--progress", "plain",
                              "--no-cache", "-t", tags[i], contexts[i].path()});
      results[i].second = SecondsSince(began);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double all_seconds = SecondsSince(start);
  std::string each;
  for (int i = 0; i < kBuilds; ++i) {
    const auto& [out, seconds] = results[i];
    INFO("build " << i << ":\n" << out.err);
    CHECK(out.exit_code == 0);
    CHECK(absl::StrContains(out.err, "RUN cat /input.txt"));
    absl::StrAppend(&each, i == 0 ? "" : ", ", absl::StrFormat("%.1f", seconds));
  }
  WARN("build load figures: " << kBuilds << " concurrent builds in " << all_seconds
       << " s (each: " << each << " s)");

  const ProcessOutput images = Run({KIM_BINARY, "--containerd-socket",
                                    PeerEnv("KIM_TEST_CONTAINERD_SOCKET"), "images", "--format",
                                    "{{.Repository}}:{{.Tag}}"});
  REQUIRE(images.exit_code == 0);
  for (const std::string& tag : tags) CHECK(absl::StrContains(images.out, tag));
  for (const std::string& tag : tags) {
    (void)Run({KIM_BINARY, "--containerd-socket", PeerEnv("KIM_TEST_CONTAINERD_SOCKET"), "rmi", tag});
  }
}
