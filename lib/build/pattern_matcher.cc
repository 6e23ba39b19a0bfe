// Docker path patterns: a hand-written matcher with the semantics of moby/patternmatcher (which
// compiles each rule to a Go regexp, with shortcuts for exact, prefix and suffix rules; the
// shortcuts are kept because their results differ from the regexp for rules like "**foo").
#include "lib/build/pattern_matcher.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace kim::build {
namespace {

// Decodes one UTF-8 rune at the start of `s`; returns its length (1 for invalid bytes).
size_t DecodeRune(std::string_view s, char32_t* rune) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  size_t length = 1;
  char32_t value = b0;
  if (b0 >= 0xF0 && s.size() >= 4) {
    length = 4;
    value = b0 & 0x07;
  } else if (b0 >= 0xE0 && s.size() >= 3) {
    length = 3;
    value = b0 & 0x0F;
  } else if (b0 >= 0xC0 && s.size() >= 2) {
    length = 2;
    value = b0 & 0x1F;
  }
  if (length == 1) {
    *rune = b0 < 0x80 ? b0 : 0xFFFD;
    return 1;
  }
  for (size_t i = 1; i < length; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) {
      *rune = 0xFFFD;
      return 1;
    }
    value = (value << 6) | (b & 0x3F);
  }
  *rune = value;
  return length;
}

std::string_view TrimSpace(std::string_view s) {
  const char* spaces = " \t\n\r\v\f";
  const size_t begin = s.find_first_not_of(spaces);
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(spaces);
  return s.substr(begin, end - begin + 1);
}

}  // namespace

std::string CleanPath(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path[0] == '/';
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out.append(parts[i]);
  }
  if (out.empty()) return ".";
  return out;
}

absl::StatusOr<Pattern> Pattern::Compile(std::string cleaned, bool exclusion) {
  Pattern p;
  p.exclusion_ = exclusion;
  p.depth_ = 1;
  for (char c : cleaned) p.depth_ += c == '/';
  const std::string_view s = cleaned;
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("syntax error in pattern \"", cleaned, "\""));
  };
  auto literal_rune = [&](size_t pos) {
    char32_t rune;
    const size_t length = DecodeRune(s.substr(pos), &rune);
    for (size_t k = 0; k < length; ++k) {
      p.tokens_.push_back(Token{.kind = Token::kLiteral, .literal = s[pos + k]});
    }
    return length;
  };
  size_t pos = 0;
  for (int i = 0; pos < s.size(); ++i) {
    const char ch = s[pos];
    if (ch == '*') {
      ++pos;
      if (pos < s.size() && s[pos] == '*') {
        ++pos;
        if (pos < s.size() && s[pos] == '/') ++pos;
        if (pos == s.size()) {
          if (p.type_ == Type::kExact) {
            p.type_ = Type::kPrefix;
          } else {
            p.tokens_.push_back(Token{.kind = Token::kAnyRest});
            p.type_ = Type::kRegexp;
          }
        } else {
          p.tokens_.push_back(Token{.kind = Token::kAnySlash});
          p.type_ = Type::kRegexp;
        }
        if (i == 0) p.type_ = Type::kSuffix;
      } else {
        p.tokens_.push_back(Token{.kind = Token::kStar});
        p.type_ = Type::kRegexp;
      }
    } else if (ch == '?') {
      ++pos;
      p.tokens_.push_back(Token{.kind = Token::kQuestion});
      p.type_ = Type::kRegexp;
    } else if (ch == '\\') {
      ++pos;
      if (pos == s.size()) return bad();  // Go's filepath.Match refuses a trailing backslash
      pos += literal_rune(pos);
      p.type_ = Type::kRegexp;
    } else if (ch == '[') {
      ++pos;
      Token token{.kind = Token::kClass};
      if (pos < s.size() && s[pos] == '^') {
        token.negated = true;
        ++pos;
      }
      bool closed = false;
      bool first = true;
      while (pos < s.size()) {
        if (s[pos] == ']' && !first) {
          closed = true;
          ++pos;
          break;
        }
        first = false;
        auto read = [&](char32_t* rune) -> bool {
          if (s[pos] == '\\') {
            ++pos;
            if (pos == s.size()) return false;
          }
          pos += DecodeRune(s.substr(pos), rune);
          return true;
        };
        char32_t lo;
        if (!read(&lo)) return bad();
        char32_t hi = lo;
        if (pos + 1 < s.size() && s[pos] == '-' && s[pos + 1] != ']') {
          ++pos;
          if (!read(&hi)) return bad();
          if (hi < lo) return bad();
        }
        token.ranges.emplace_back(lo, hi);
      }
      if (!closed) return bad();
      p.tokens_.push_back(std::move(token));
      p.type_ = Type::kRegexp;
    } else if (ch == ']') {
      ++pos;
      p.tokens_.push_back(Token{.kind = Token::kLiteral, .literal = ']'});
      p.type_ = Type::kRegexp;
    } else {
      pos += literal_rune(pos);
    }
  }
  p.cleaned_ = std::move(cleaned);
  return p;
}

bool Pattern::MatchTokens(size_t t, std::string_view rest, size_t path_size,
                          std::vector<bool>* failed) const {
  const size_t state = t * (path_size + 1) + (path_size - rest.size());
  if ((*failed)[state]) return false;
  if (MatchTokensFrom(t, rest, path_size, failed)) return true;
  (*failed)[state] = true;
  return false;
}

bool Pattern::MatchTokensFrom(size_t t, std::string_view rest, size_t path_size,
                              std::vector<bool>* failed) const {
  for (; t < tokens_.size(); ++t) {
    const Token& token = tokens_[t];
    switch (token.kind) {
      case Token::kLiteral:
        if (rest.empty() || rest[0] != token.literal) return false;
        rest.remove_prefix(1);
        break;
      case Token::kQuestion:
      case Token::kClass: {
        if (rest.empty()) return false;
        char32_t rune;
        const size_t length = DecodeRune(rest, &rune);
        if (token.kind == Token::kQuestion) {
          if (rune == '/') return false;
        } else {
          bool in = false;
          for (const auto& [lo, hi] : token.ranges) in = in || (rune >= lo && rune <= hi);
          if (in == token.negated) return false;
        }
        rest.remove_prefix(length);
        break;
      }
      case Token::kStar: {  // [^/]*
        size_t k = 0;
        while (true) {
          if (MatchTokens(t + 1, rest.substr(k), path_size, failed)) return true;
          if (k == rest.size() || rest[k] == '/') return false;
          char32_t rune;
          k += DecodeRune(rest.substr(k), &rune);
        }
      }
      case Token::kAnySlash: {  // (.*/)?
        if (MatchTokens(t + 1, rest, path_size, failed)) return true;
        for (size_t k = 0; k < rest.size() && rest[k] != '\n'; ++k) {
          if (rest[k] == '/' && MatchTokens(t + 1, rest.substr(k + 1), path_size, failed)) {
            return true;
          }
        }
        return false;
      }
      case Token::kAnyRest:  // .* (always last)
        if (rest.find('\n') != std::string_view::npos) return false;
        rest = {};
        break;
    }
  }
  return rest.empty();
}

bool Pattern::Match(std::string_view path) const {
  switch (type_) {
    case Type::kExact:
      return path == cleaned_;
    case Type::kPrefix:
      return path.starts_with(std::string_view(cleaned_).substr(0, cleaned_.size() - 2));
    case Type::kSuffix: {
      const std::string_view suffix = std::string_view(cleaned_).substr(2);
      if (path.ends_with(suffix)) return true;
      return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
    }
    case Type::kRegexp: {
      std::vector<bool> failed((tokens_.size() + 1) * (path.size() + 1), false);
      return MatchTokens(0, path, path.size(), &failed);
    }
  }
  return false;
}

std::string Pattern::WithoutTrailingGlob() const {
  std::string_view s = cleaned_;
  if (s.ends_with("/**")) s.remove_suffix(3);
  if (s.ends_with("/*")) s.remove_suffix(2);
  return std::string(s);
}

bool Pattern::HasWildcards() const {
  return WithoutTrailingGlob().find_first_of("*[]?^\\") != std::string::npos;
}

absl::StatusOr<PatternMatcher> PatternMatcher::Create(const std::vector<std::string>& patterns) {
  PatternMatcher matcher;
  for (const std::string& raw : patterns) {
    std::string_view trimmed = TrimSpace(raw);
    if (trimmed.empty()) continue;
    std::string cleaned = CleanPath(trimmed);
    bool exclusion = false;
    if (cleaned[0] == '!') {
      if (cleaned.size() == 1) {
        return absl::InvalidArgumentError("illegal exclusion pattern: \"!\"");
      }
      exclusion = true;
      cleaned.erase(0, 1);
      matcher.exclusions_ = true;
    }
    auto pattern = Pattern::Compile(std::move(cleaned), exclusion);
    if (!pattern.ok()) return pattern.status();
    matcher.patterns_.push_back(*std::move(pattern));
  }
  return matcher;
}

namespace {

// The parent directories of `path`: "a/b/c" -> "a", "a/b".
std::vector<std::string_view> ParentPrefixes(std::string_view path) {
  std::vector<std::string_view> out;
  for (size_t pos = path.find('/'); pos != std::string_view::npos; pos = path.find('/', pos + 1)) {
    out.push_back(path.substr(0, pos));
  }
  return out;
}

}  // namespace

bool PatternMatcher::MatchesUsingParentResults(std::string_view path, const MatchInfo& parent,
                                               MatchInfo* info) const {
  bool matched = false;
  info->assign(patterns_.size(), false);
  std::vector<std::string_view> parents;
  bool parents_computed = false;
  for (size_t i = 0; i < patterns_.size(); ++i) {
    const Pattern& pattern = patterns_[i];
    bool match = !parent.empty() && parent[i];
    if (!match) {
      if (pattern.exclusion() != matched) continue;
      match = pattern.Match(path);
      if (!match && parent.empty()) {
        if (!parents_computed) {
          parents = ParentPrefixes(path);
          parents_computed = true;
        }
        for (std::string_view dir : parents) {
          if (pattern.Match(dir)) {
            match = true;
            break;
          }
        }
      }
    }
    (*info)[i] = match;
    if (match) matched = !pattern.exclusion();
  }
  return matched;
}

bool PatternMatcher::MatchesOrParentMatches(std::string_view path) const {
  bool matched = false;
  const std::vector<std::string_view> parents = ParentPrefixes(path);
  for (const Pattern& pattern : patterns_) {
    if (pattern.exclusion() != matched) continue;
    bool match = pattern.Match(path);
    for (size_t k = 0; !match && k < parents.size(); ++k) match = pattern.Match(parents[k]);
    if (match) matched = !pattern.exclusion();
  }
  return matched;
}

std::vector<std::string> ParseIgnoreFile(std::string_view content) {
  std::vector<std::string> out;
  bool first = true;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    first = false;
    if (line.starts_with("#")) continue;
    line = TrimSpace(line);
    if (line.empty()) continue;
    const bool invert = line[0] == '!';
    if (invert) line = TrimSpace(line.substr(1));
    std::string pattern(line);
    if (!pattern.empty()) {
      pattern = CleanPath(pattern);
      if (pattern.size() > 1 && pattern[0] == '/') pattern.erase(0, 1);
    }
    out.push_back(invert ? "!" + pattern : pattern);
  }
  return out;
}

}  // namespace kim::build
