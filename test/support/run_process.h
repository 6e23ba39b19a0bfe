// Runs a program for a test and captures what it prints and how it exits.
#ifndef KIM_TEST_SUPPORT_RUN_PROCESS_H_
#define KIM_TEST_SUPPORT_RUN_PROCESS_H_

#include <map>
#include <string>
#include <vector>

namespace kim::test {

// What a finished program did.
struct ProcessOutput {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] is a path; `arg0` overrides what the program sees as its name) with
// `input` on stdin and extra environment `env` ("" values unset the variable), waits for it
// and returns its output. Kills it after 20 s so that a hang fails the test instead of CI.
ProcessOutput Run(const std::vector<std::string>& argv, const std::string& input = "",
                  const std::map<std::string, std::string>& env = {},
                  const std::string& arg0 = "");

}  // namespace kim::test



namespace kim::test {

// A program running in the background for the length of a test (e.g. kim-agent). Its stderr is
// collected; the destructor kills it if it is still running.
class Daemon {
 public:
  // Starts `argv` with stdout and stderr captured.
  explicit Daemon(const std::vector<std::string>& argv);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Reads stderr until a line that starts at or after byte `from` of err() contains `text`, or
  // `seconds` pass; returns that line or "".
  std::string WaitForLine(const std::string& text, int seconds = 10, size_t from = 0);
  // Sends `signal`, waits up to `seconds` for the exit, and returns the exit code (-1 on
  // timeout; 128+N when killed by signal N).
  int Stop(int signal, int seconds = 10);
  // Everything read from stderr so far.
  const std::string& err() const { return err_; }
  // The process's id (for /proc readings), or -1 once it has exited and been reaped.
  int pid() const { return pid_; }
  // Waits up to `seconds` for the program to exit by itself (signal 0 sends nothing); its exit
  // code as Stop returns it.
  int Wait(int seconds) { return Stop(0, seconds); }

 private:
  int pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
};

}  // namespace kim::test
#endif  // KIM_TEST_SUPPORT_RUN_PROCESS_H_
