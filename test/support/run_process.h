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

#endif  // KIM_TEST_SUPPORT_RUN_PROCESS_H_
