// Tests for lib/core/subprocess.h, running real programs (sh, cat, sleep) from the base system.
#include "lib/core/subprocess.h"

#include <stdlib.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace kim {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(20);

absl::StatusOr<ProcessResult> Sh(const std::string& script, std::string_view input = "") {
  return RunProcess({"sh", "-c", script}, input, kTimeout);
}

TEST_CASE("RunProcess captures stdout, stderr and the exit status", "[subprocess]") {
  struct Case {
    std::string script;
    int exit_code;
    std::string out;
    std::string err;
  };
  const std::vector<Case> cases = {
      {"echo hello", 0, "hello\n", ""},
      {"exit 3", 3, "", ""},
      {"echo oops >&2; exit 1", 1, "", "oops\n"},
      {"printf out; printf err >&2", 0, "out", "err"},
      {"exit 255", 255, "", ""},
      {"kill -9 $$", 128 + 9, "", ""},
      {"kill -TERM $$", 128 + 15, "", ""},
  };
  for (const Case& c : cases) {
    INFO("script: " << c.script);
    absl::StatusOr<ProcessResult> result = Sh(c.script);
    REQUIRE(result.ok());
    CHECK(result->exit_code == c.exit_code);
    CHECK(result->out == c.out);
    CHECK(result->err == c.err);
  }
}

TEST_CASE("RunProcess passes arguments verbatim and inherits the environment", "[subprocess]") {
  absl::StatusOr<ProcessResult> result = RunProcess(
      {"sh", "-c", "printf '%s|' \"$@\"", "sh", "a b", "", "c'd", "$HOME"}, "", kTimeout);
  REQUIRE(result.ok());
  CHECK(result->out == "a b||c'd|$HOME|");

  ::setenv("KIM_SUBPROCESS_TEST", "xyz", 1);
  result = Sh("printf %s \"$KIM_SUBPROCESS_TEST\"");
  ::unsetenv("KIM_SUBPROCESS_TEST");
  REQUIRE(result.ok());
  CHECK(result->out == "xyz");
}

TEST_CASE("RunProcess feeds stdin and cannot deadlock on large streams", "[subprocess]") {
  // 4 MiB through cat: far more than a pipe buffer in both directions at once.
  std::string input;
  for (int i = 0; input.size() < 4 * 1024 * 1024; ++i) input += std::to_string(i) + "\n";
  absl::StatusOr<ProcessResult> result = RunProcess({"cat"}, input, kTimeout);
  REQUIRE(result.ok());
  CHECK(result->exit_code == 0);
  CHECK(result->out.size() == input.size());
  CHECK(result->out == input);

  // Writes a lot to both streams before reading any input.
  result = Sh("head -c 1000000 /dev/zero; head -c 700000 /dev/zero >&2; wc -c",
              std::string(500000, 'x'));
  REQUIRE(result.ok());
  CHECK(result->exit_code == 0);
  CHECK(result->out.size() == 1000000 + 7);
  CHECK(result->out.substr(1000000) == "500000\n");
  CHECK(result->err.size() == 700000);
}

TEST_CASE("RunProcess survives a program that ignores its input", "[subprocess]") {
  // The program exits without reading: our writes hit EPIPE, which must not kill the test.
  absl::StatusOr<ProcessResult> result =
      RunProcess({"true"}, std::string(2 * 1024 * 1024, 'y'), kTimeout);
  REQUIRE(result.ok());
  CHECK(result->exit_code == 0);
  result = Sh("exec 0<&-; echo closed", std::string(1024 * 1024, 'z'));
  REQUIRE(result.ok());
  CHECK(result->out == "closed\n");
}

TEST_CASE("RunProcess kills a program that runs past its timeout", "[subprocess]") {
  absl::Time start = absl::Now();
  absl::StatusOr<ProcessResult> result = RunProcess({"sleep", "30"}, "", absl::Milliseconds(200));
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(result.status().message()) == "sleep: timed out after 200ms");
  CHECK(absl::Now() - start < absl::Seconds(10));

  // Closing its output early does not let a program escape the deadline.
  start = absl::Now();
  result = RunProcess({"sh", "-c", "exec >&- 2>&-; exec sleep 30"}, "", absl::Milliseconds(200));
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::Now() - start < absl::Seconds(10));

  // Without a timeout the program simply runs to completion.
  result = RunProcess({"sh", "-c", "sleep 0.1; echo done"}, "", absl::InfiniteDuration());
  REQUIRE(result.ok());
  CHECK(result->out == "done\n");
}

TEST_CASE("RunProcess reports a missing program as NotFound", "[subprocess]") {
  absl::StatusOr<ProcessResult> result =
      RunProcess({"docker-credential-foo", "get"}, "x", kTimeout);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(result.status().message()) ==
        "docker-credential-foo: executable file not found in $PATH");

  result = RunProcess({"/nonexistent/dir/prog"}, "", kTimeout);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kNotFound);

  result = RunProcess({}, "", kTimeout);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("FindExecutable searches PATH for executable files only", "[subprocess]") {
  absl::StatusOr<std::string> sh = FindExecutable("sh");
  REQUIRE(sh.ok());
  CHECK(sh->size() > 3);
  CHECK(sh->substr(sh->size() - 3) == "/sh");
  CHECK(FindExecutable("/bin/sh").value() == "/bin/sh");

  const std::string helpers = std::string(KIM_TEST_DATA_DIR) + "/credential-helpers";
  CHECK(FindExecutable(helpers + "/docker-credential-kimtest").ok());
  // Present but without the executable bit.
  CHECK(FindExecutable(helpers + "/docker-credential-notexec").status().code() ==
        absl::StatusCode::kNotFound);
  // A directory is not a program.
  CHECK(FindExecutable(helpers).status().code() == absl::StatusCode::kNotFound);
  CHECK(FindExecutable("").status().code() == absl::StatusCode::kNotFound);
  CHECK(FindExecutable("kim-no-such-program-xyz").status().code() ==
        absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kim
