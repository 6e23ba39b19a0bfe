// Docker's path patterns (.dockerignore rules, FileSync include/exclude patterns), matched exactly
// as moby/patternmatcher and the Docker CLI's ignore-file reader do: `*`, `?`, `[...]`, `**`,
// `\` escapes, `!` exceptions where the last matching rule wins, and "a rule that matches a
// directory matches everything under it".
#ifndef KIM_LIB_BUILD_PATTERN_MATCHER_H_
#define KIM_LIB_BUILD_PATTERN_MATCHER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kim::build {

// Go's path.Clean for slash-separated paths: collapses "//", "." and ".." and drops a trailing
// "/"; "" becomes ".".
std::string CleanPath(std::string_view path);

// One compiled rule. Thread-compatible; Match is const and safe to call concurrently.
class Pattern {
 public:
  // Compiles an already cleaned pattern (without the leading '!'). InvalidArgument for a syntax
  // error such as an unclosed '['.
  static absl::StatusOr<Pattern> Compile(std::string cleaned, bool exclusion);

  // True when `path` (relative, '/'-separated, cleaned) matches the rule itself.
  bool Match(std::string_view path) const;

  const std::string& text() const { return cleaned_; }
  bool exclusion() const { return exclusion_; }
  // Number of '/'-separated components of the pattern.
  size_t depth() const { return depth_; }
  // The pattern without a trailing "/**" or "/*" (for the walker's prefix optimisation).
  std::string WithoutTrailingGlob() const;
  // True when the pattern contains any of the characters *[]?^\ (i.e. is not a plain path).
  bool HasWildcards() const;

  struct Token {
    enum Kind { kLiteral, kStar, kQuestion, kClass, kAnySlash, kAnyRest } kind;
    char literal = 0;
    bool negated = false;
    std::vector<std::pair<char32_t, char32_t>> ranges;  // for kClass
  };

 private:
  enum class Type { kExact, kPrefix, kSuffix, kRegexp };
  // Whether tokens_[token...] match `rest`, the end of a path of `path_size` bytes. `failed`
  // remembers (token, offset) states known not to match, so that patterns with many stars take
  // time linear in tokens x path, not exponential.
  bool MatchTokens(size_t token, std::string_view rest, size_t path_size,
                   std::vector<bool>* failed) const;
  // MatchTokens without the look-up of `failed` for this state.
  bool MatchTokensFrom(size_t token, std::string_view rest, size_t path_size,
                       std::vector<bool>* failed) const;

  std::string cleaned_;
  bool exclusion_ = false;
  size_t depth_ = 1;
  Type type_ = Type::kExact;
  std::vector<Token> tokens_;
};

// An ordered list of rules, like patternmatcher.PatternMatcher.
class PatternMatcher {
 public:
  // Parses the rules: surrounding spaces trimmed, empty ones skipped, each cleaned; a leading '!'
  // makes an exception. InvalidArgument for a lone "!" or a bad pattern.
  static absl::StatusOr<PatternMatcher> Create(const std::vector<std::string>& patterns);

  // Per-rule results of a directory, passed down to its children.
  using MatchInfo = std::vector<bool>;

  // Whether `path` is matched, using the results of its parent directory (`parent` empty for a
  // top-level entry or when unknown); fills `info` for use by the path's children.
  bool MatchesUsingParentResults(std::string_view path, const MatchInfo& parent,
                                 MatchInfo* info) const;
  // Whether `path` or any of its parent directories is matched (the last matching rule wins).
  bool MatchesOrParentMatches(std::string_view path) const;

  const std::vector<Pattern>& patterns() const { return patterns_; }
  bool has_exclusions() const { return exclusions_; }
  bool empty() const { return patterns_.empty(); }

 private:
  std::vector<Pattern> patterns_;
  bool exclusions_ = false;
};

// Reads a .dockerignore file's text like the Docker CLI: '#' comment lines and blank lines
// skipped, a UTF-8 BOM dropped, each rule trimmed and cleaned, a leading '/' removed, "!rule"
// kept as an exception.
std::vector<std::string> ParseIgnoreFile(std::string_view content);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_PATTERN_MATCHER_H_
