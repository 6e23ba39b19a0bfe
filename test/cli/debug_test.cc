// --debug turns on debug lines on stderr; without it kim prints none.
#include <catch2/catch.hpp>

#include "test/support/run_process.h"

using kim::test::Run;

TEST_CASE("kim --debug writes debug lines to stderr only when asked", "[cli][debug]") {
  const auto quiet = Run({KIM_BINARY, "images"}, "", {{"KIM_AGENT_ADDR", ""},
                                                      {"KIM_CONTAINERD_SOCKET", ""}});
  CHECK(quiet.err.find("DEBU[") == std::string::npos);
  const auto debug = Run({KIM_BINARY, "--debug", "images"}, "",
                         {{"KIM_AGENT_ADDR", ""}, {"KIM_CONTAINERD_SOCKET", ""}});
  CHECK(debug.err.find("DEBU[0000] running \"kim images\"") != std::string::npos);
  CHECK(debug.out.find("DEBU[") == std::string::npos);
}
