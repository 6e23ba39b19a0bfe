// Docker's path patterns (lib/build/pattern_matcher.h): the .dockerignore rules the Dockerfile
// frontend sends as exclude-patterns, matched like moby/patternmatcher.
#include <catch2/catch.hpp>

#include "lib/build/pattern_matcher.h"

using kim::build::CleanPath;
using kim::build::ParseIgnoreFile;
using kim::build::PatternMatcher;

namespace {

// Whether `path` is excluded by `rules`, walking down from the top like fsutil does (each
// directory's per-rule results are passed to its children).
bool Excluded(const std::vector<std::string>& rules, const std::string& path) {
  auto matcher = PatternMatcher::Create(rules);
  REQUIRE(matcher.ok());
  PatternMatcher::MatchInfo parent, info;
  bool matched = false;
  for (size_t pos = 0;; pos = path.find('/', pos) + 1) {
    const size_t slash = path.find('/', pos);
    const std::string prefix = path.substr(0, slash);
    matched = matcher->MatchesUsingParentResults(prefix, parent, &info);
    parent = info;
    if (slash == std::string::npos) break;
  }
  // The one-shot form must agree when no exception is involved.
  if (!matcher->has_exclusions()) CHECK(matcher->MatchesOrParentMatches(path) == matched);
  return matched;
}

}  // namespace

TEST_CASE("CleanPath: Go's path.Clean", "[build][patterns]") {
  CHECK(CleanPath("") == ".");
  CHECK(CleanPath("a//b/./c/") == "a/b/c");
  CHECK(CleanPath("a/../../b") == "../b");
  CHECK(CleanPath("/../a") == "/a");
  CHECK(CleanPath("./") == ".");
  CHECK(CleanPath("/") == "/");
}

TEST_CASE("Patterns: single-level wildcards stay in one directory", "[build][patterns]") {
  CHECK(Excluded({"*.go"}, "main.go"));
  CHECK_FALSE(Excluded({"*.go"}, "cmd/main.go"));
  CHECK(Excluded({"a?c"}, "abc"));
  CHECK_FALSE(Excluded({"a?c"}, "a/c"));
  CHECK(Excluded({"[a-c]x"}, "bx"));
  CHECK_FALSE(Excluded({"[a-c]x"}, "dx"));
  CHECK(Excluded({"[^a-c]x"}, "dx"));
  CHECK(Excluded({"*/*.txt"}, "docs/a.txt"));
  CHECK_FALSE(Excluded({"*/*.txt"}, "a.txt"));
  CHECK(Excluded({"\xc3\xa9t\xc3\xa9/?.md"}, "\xc3\xa9t\xc3\xa9/\xc3\xa0.md"));  // ? is one rune
}

TEST_CASE("Patterns: ** crosses directories", "[build][patterns]") {
  CHECK(Excluded({"**/*.go"}, "main.go"));
  CHECK(Excluded({"**/*.go"}, "a/b/main.go"));
  CHECK(Excluded({"dir/**/*.txt"}, "dir/a.txt"));
  CHECK(Excluded({"dir/**/*.txt"}, "dir/x/y/a.txt"));
  CHECK_FALSE(Excluded({"dir/**/*.txt"}, "other/a.txt"));
  CHECK(Excluded({"**"}, "anything/at/all"));
  CHECK(Excluded({"a/**"}, "a/x/y"));
  CHECK(Excluded({"**/node_modules"}, "web/app/node_modules/left-pad/index.js"));
  // Docker's suffix shortcut: "**foo" matches any path ending in foo.
  CHECK(Excluded({"**foo"}, "barfoo"));
}

TEST_CASE("Patterns: a matched directory excludes everything under it", "[build][patterns]") {
  CHECK(Excluded({"docs"}, "docs"));
  CHECK(Excluded({"docs"}, "docs/a/b.md"));
  CHECK_FALSE(Excluded({"docs"}, "docs2/a"));
  CHECK_FALSE(Excluded({"docs"}, "src/docs"));
  CHECK(Excluded({"/docs/"}, "docs/x") == false);  // leading "/" is stripped by the reader only
  CHECK(Excluded(ParseIgnoreFile("/docs/\n"), "docs/x"));
}

TEST_CASE("Patterns: ! exceptions, the last matching rule wins", "[build][patterns]") {
  const std::vector<std::string> rules = {"*.md", "!README.md", "README-secret.md"};
  CHECK(Excluded(rules, "CHANGES.md"));
  CHECK_FALSE(Excluded(rules, "README.md"));
  CHECK(Excluded(rules, "README-secret.md"));
  const std::vector<std::string> dir_rules = {"build", "!build/keep"};
  CHECK(Excluded(dir_rules, "build/out.o"));
  CHECK_FALSE(Excluded(dir_rules, "build/keep"));
  CHECK_FALSE(Excluded(dir_rules, "build/keep/inner.txt"));
  CHECK(Excluded({"*", "!src", "src/*.tmp"}, "other"));
  CHECK_FALSE(Excluded({"*", "!src", "src/*.tmp"}, "src/main.c"));
  CHECK(Excluded({"*", "!src", "src/*.tmp"}, "src/x.tmp"));
}

TEST_CASE("Patterns: escapes and bad patterns", "[build][patterns]") {
  CHECK(Excluded({"a\\*b"}, "a*b"));
  CHECK_FALSE(Excluded({"a\\*b"}, "axb"));
  CHECK_FALSE(PatternMatcher::Create({"[abc"}).ok());
  CHECK_FALSE(PatternMatcher::Create({"!"}).ok());
  CHECK_FALSE(PatternMatcher::Create({"trailing\\"}).ok());
  CHECK(PatternMatcher::Create({"", "  "})->empty());
}

TEST_CASE("ParseIgnoreFile: the Docker CLI's reader", "[build][patterns]") {
  const auto rules = ParseIgnoreFile(
      "\xEF\xBB\xBF# comment\n"
      "/abs\r\n"
      "  spaced  \n"
      "\n"
      " ! keep \n"
      "./x/../y/\n"
      "#not-a-comment-after-trim?\n"
      "  # indented is a rule\n");
  CHECK(rules == std::vector<std::string>{"abs", "spaced", "!keep", "y", "# indented is a rule"});
}

TEST_CASE("Patterns: many stars match without backtracking for ever", "[build][patterns]") {
  // Found by the gcc fuzz driver (dockerignore): "*a*a*...*b" against a long name of a's tried
  // every split, exponential in the stars (ctest's 300 s ran out); each (token, offset) state
  // is now tried once.
  std::string pattern, stars_across;
  for (int i = 0; i < 30; ++i) pattern += "*a";
  for (int i = 0; i < 30; ++i) stars_across += "**/a";
  const std::string name(80, 'a');
  CHECK_FALSE(Excluded({pattern + "*b"}, name));
  CHECK(Excluded({pattern + "*"}, name));
  CHECK_FALSE(Excluded({stars_across + "/b"}, name + "/" + name));
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "a/";
  CHECK(Excluded({stars_across + "/**"}, deep + "x"));
}
