// Running a short-lived helper program (a credential helper, an exec plugin) to completion with
// its standard streams captured. Internal to libkim.
#ifndef KIM_LIB_CORE_SUBPROCESS_H_
#define KIM_LIB_CORE_SUBPROCESS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kim {

// What a finished program left behind.
struct ProcessResult {
  // The exit status (0-255), or 128 + the signal number when a signal ended the program, the way
  // shells report it.
  int exit_code = 0;
  // Everything the program wrote to standard output.
  std::string out;
  // Everything the program wrote to standard error.
  std::string err;
};

// Finds `name` the way a shell (and Go's exec.LookPath) does: a name containing '/' is used as
// is, otherwise the first executable regular file named `name` in a $PATH directory. Returns the
// path, or NotFound ("<name>: executable file not found in $PATH").
absl::StatusOr<std::string> FindExecutable(std::string_view name);

// Runs argv[0] (looked up with FindExecutable) with arguments argv[1..], the caller's environment
// and working directory, feeds it `stdin_data` then end-of-file, and collects its output until it
// exits. Reading and writing are interleaved, so a program that writes a lot before reading all of
// its input cannot deadlock. A program still running after `timeout` (absl::InfiniteDuration()
// for none) is killed with SIGKILL.
//
// A non-zero exit is not an error: it is reported in ProcessResult::exit_code. Returns
// InvalidArgument for an empty argv, NotFound when the program does not exist,
// DeadlineExceeded ("<program>: timed out after 5s") on timeout, and Internal when the system
// refuses to start it. Thread-safe; SIGPIPE from a program that stops reading early is absorbed.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         std::string_view stdin_data, absl::Duration timeout);

}  // namespace kim

#endif  // KIM_LIB_CORE_SUBPROCESS_H_
