// Tests for the builder node chosen per build context (lib/connect/builder_choice.h).
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "lib/connect/builder_choice.h"

namespace kim {
namespace {

std::vector<std::string> Keys(int count) {
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) keys.push_back(absl::StrCat("/home/user/project-", i));
  return keys;
}

TEST_CASE("a build context keeps its builder node", "[connect][builder-choice]") {
  const std::vector<std::string> nodes = {"node-a", "node-b", "node-c"};
  for (const std::string& key : Keys(50)) {
    const std::string first = PickBuilderNode(nodes, key);
    CHECK(PickBuilderNode(nodes, key) == first);
    // The order the nodes are listed in does not matter.
    CHECK(PickBuilderNode({"node-c", "node-a", "node-b"}, key) == first);
  }
}

TEST_CASE("build contexts spread over the builder nodes", "[connect][builder-choice]") {
  const std::vector<std::string> nodes = {"node-a", "node-b", "node-c"};
  std::map<std::string, int> counts;
  for (const std::string& key : Keys(300)) ++counts[PickBuilderNode(nodes, key)];
  REQUIRE(counts.size() == 3);
  for (const auto& [node, count] : counts) {
    INFO(node);
    CHECK(count > 60);  // an even spread is 100 each
  }
}

TEST_CASE("a node that leaves moves only its own contexts", "[connect][builder-choice]") {
  const std::vector<std::string> all = {"node-a", "node-b", "node-c"};
  const std::vector<std::string> without_b = {"node-a", "node-c"};
  int moved = 0;
  for (const std::string& key : Keys(200)) {
    const std::string before = PickBuilderNode(all, key);
    const std::string after = PickBuilderNode(without_b, key);
    if (before != "node-b") {
      CHECK(after == before);
    } else {
      CHECK(after != "node-b");
      ++moved;
    }
  }
  CHECK(moved > 0);
}

TEST_CASE("no builder node, no choice", "[connect][builder-choice]") {
  CHECK(PickBuilderNode({}, "/src").empty());
  CHECK(PickBuilderNode({"only"}, "/src") == "only");
}

}  // namespace
}  // namespace kim
