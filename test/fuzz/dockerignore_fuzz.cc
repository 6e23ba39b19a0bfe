// Fuzz target for .dockerignore files (the build context's own file, so outside input for
// whoever builds someone else's repository): reading the rules, compiling them and matching
// paths (whole, and walked down directory by directory as the context walker does). Beyond "does
// not crash": CleanPath is idempotent and each rule's result vector has one entry per rule.
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_split.h"
#include "lib/build/pattern_matcher.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = kim::fuzz::AsText(data, size);
  const std::vector<std::string> rules = kim::build::ParseIgnoreFile(input);
  for (const std::string& rule : rules) {
    const std::string clean = kim::build::CleanPath(rule);
    Require(kim::build::CleanPath(clean) == clean, "CleanPath is idempotent");
  }
  auto matcher = kim::build::PatternMatcher::Create(rules);
  if (!matcher.ok()) {
    Require(!matcher.status().message().empty(), "errors have a message");
    return 0;
  }
  // Paths to try: some fixed ones, and each rule's own text read as a path.
  std::vector<std::string> paths = {"Dockerfile", "a", "a/b", "a/b/c.txt", ".git/config",
                                    "node_modules/x/y.js", "dir/sub/file", "[x]", "a\\b"};
  for (const std::string& rule : rules) {
    if (!rule.empty() && rule.size() < 200) paths.push_back(kim::build::CleanPath(rule[0] == '!' ? rule.substr(1) : rule));
  }
  for (const std::string& path : paths) {
    const bool whole = matcher->MatchesOrParentMatches(path);
    // Walk down the path as the context walker does, passing each directory's results on.
    kim::build::PatternMatcher::MatchInfo parent, info;
    std::string prefix;
    for (absl::string_view part : absl::StrSplit(path, '/')) {
      prefix = prefix.empty() ? std::string(part) : prefix + "/" + std::string(part);
      info.clear();
      (void)matcher->MatchesUsingParentResults(prefix, parent, &info);
      Require(info.size() == matcher->patterns().size(), "one result per rule");
      parent = info;
    }
    (void)whole;
  }
  return 0;
}
