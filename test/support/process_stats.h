// What a running process holds, read from /proc: memory, threads, open file descriptors. For the
// load tests' checks that a daemon's footprint stays bounded and nothing leaks.
#ifndef KIM_TEST_SUPPORT_PROCESS_STATS_H_
#define KIM_TEST_SUPPORT_PROCESS_STATS_H_

#include <string>

namespace kim::test {

// One reading of /proc/PID/status, /proc/PID/task and /proc/PID/fd.
struct ProcessStats {
  long rss_kb = 0;  // VmRSS: resident now
  long hwm_kb = 0;  // VmHWM: the peak resident size so far
  int threads = 0;  // entries of /proc/PID/task
  int fds = 0;      // entries of /proc/PID/fd
};

// Reads the stats of `pid`; fails the test when the process is gone.
ProcessStats StatsOf(int pid);

// "RSS 12.3 MB (peak 20.1 MB), 9 threads, 14 fds", for reports.
std::string Describe(const ProcessStats& stats);

// Waits (up to `seconds`) until `pid` has at most `threads` threads and `fds` descriptors (gRPC
// lets idle threads and closed connections go a moment after the last call), and returns the
// last reading.
ProcessStats SettledStatsOf(int pid, int threads, int fds, int seconds = 10);

}  // namespace kim::test

#endif  // KIM_TEST_SUPPORT_PROCESS_STATS_H_
