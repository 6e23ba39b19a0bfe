// kim --version and kim-agent --version print the version and the git commit.
#include <catch2/catch.hpp>

#include "kim/version.h"
#include "test/support/run_process.h"

using kim::test::Run;

TEST_CASE("kim --version prints version and commit", "[cli]") {
  for (const char* flag : {"--version", "-v"}) {
    const auto result = Run({KIM_BINARY, flag});
    CAPTURE(flag, result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.out == "kim version " + std::string(kim::Version()) + " (" +
                            std::string(kim::GitCommit()) + ")\n");
    CHECK(kim::GitCommit().size() >= 7);
  }
}
