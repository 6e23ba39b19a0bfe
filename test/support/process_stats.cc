// /proc readings: VmRSS and VmHWM from status, directory entries of task/ and fd/.
#include "test/support/process_stats.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/strings/str_format.h"

namespace kim::test {
namespace {

int Entries(const std::string& dir) {
  std::error_code error;
  int count = 0;
  for (auto it = std::filesystem::directory_iterator(dir, error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return count;
}

}  // namespace

ProcessStats StatsOf(int pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  std::ifstream status(proc + "/status");
  REQUIRE(status.good());
  ProcessStats stats;
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) stats.rss_kb = std::stol(line.substr(6));
    if (line.starts_with("VmHWM:")) stats.hwm_kb = std::stol(line.substr(6));
  }
  stats.threads = Entries(proc + "/task");
  stats.fds = Entries(proc + "/fd");
  REQUIRE(stats.rss_kb > 0);
  return stats;
}

std::string Describe(const ProcessStats& stats) {
  return absl::StrFormat("RSS %.1f MB (peak %.1f MB), %d threads, %d fds", stats.rss_kb / 1024.0,
                         stats.hwm_kb / 1024.0, stats.threads, stats.fds);
}

ProcessStats SettledStatsOf(int pid, int threads, int fds, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  ProcessStats stats = StatsOf(pid);
  while ((stats.threads > threads || stats.fds > fds) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stats = StatsOf(pid);
  }
  return stats;
}

}  // namespace kim::test
