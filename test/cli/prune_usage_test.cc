// image prune, builder prune and system df: usage errors exit 2 before anything is contacted.
#include <catch2/catch.hpp>

#include "test/support/run_process.h"

using kim::test::Run;

namespace {

kim::test::ProcessOutput Kim(std::vector<std::string> words) {
  words.insert(words.begin(), KIM_BINARY);
  return Run(words, "", {{"KIM_CONTAINERD_SOCKET", ""}, {"KUBECONFIG", "/nonexistent"}});
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("prune and df take no arguments and only their own flags", "[cli][errors][prune]") {
  const std::vector<std::tuple<std::vector<std::string>, std::string>> cases = {
      {{"image", "prune", "extra"}, "\"kim image prune\" accepts no arguments."},
      {{"builder", "prune", "extra"}, "\"kim system prune\" accepts no arguments."},
      {{"system", "df", "extra"}, "\"kim system df\" accepts no arguments."},
      {{"image", "prune", "--keep-storage", "1GB"}, "unknown flag: --keep-storage"},
      {{"builder", "prune", "--bogus"}, "unknown flag: --bogus"},
      {{"system", "df", "-q"}, "unknown shorthand flag: 'q' in -q"},
      {{"image", "prune", "--filter"}, "Option ‘filter’ is missing an argument"},
  };
  for (const auto& [words, message] : cases) {
    const auto result = Kim(words);
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK(Contains(result.err, message));
    CHECK(result.out.empty());
  }
}

TEST_CASE("builder prune refuses bad values before prompting", "[cli][errors][prune]") {
  const auto size = Kim({"builder", "prune", "--keep-storage", "lots"});
  CHECK(size.exit_code == 1);
  CHECK(Contains(size.err, "invalid size: 'lots'"));
  CHECK(size.out.empty());
  const auto filter = Kim({"builder", "prune", "--filter", "until=soon"});
  CHECK(filter.exit_code == 1);
  CHECK(Contains(filter.err, "invalid until filter \"soon\""));
}
