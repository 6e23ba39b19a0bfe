// A hand-written matcher for Docker's reference grammar (see kim/reference.h). Docker matches
// the whole reference with one regular expression; here each piece is split off where the
// grammar forces it to be, which gives the same result:
//   * "@" appears in no part except as the digest separator, so the first "@" splits the digest;
//   * the tag is after the last ":" when no "/" follows it (a ":" in the name is always a port or
//     IPv6 separator, and those are followed by "/");
//   * the regular expression prefers a domain, so the first segment is the domain whenever it
//     parses as one and the remainder parses as a path.
#include "kim/reference.h"

#include <cstddef>
#include <utility>

#include <fmt/format.h>

#include "absl/status/status.h"

namespace kim {
namespace {

constexpr size_t kNameTotalLengthMax = 255;
constexpr size_t kTagLengthMax = 128;
constexpr size_t kDigestHexMin = 32;
constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kLocalhost = "localhost";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z'); }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsWord(char c) { return IsAlnum(c) || c == '_'; }

// domain-component: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool IsDomainComponent(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

// domain-name: domain-component ("." domain-component)*
bool IsDomainName(std::string_view s) {
  while (true) {
    size_t dot = s.find('.');
    if (!IsDomainComponent(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

bool IsPort(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// domain: (domain-name | "[" [a-fA-F0-9:]+ "]") [":" port]
bool IsDomain(std::string_view s) {
  std::string_view rest;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : s.substr(1, close - 1)) {
      if (!IsHex(c) && c != ':') return false;
    }
    rest = s.substr(close + 1);
  } else {
    size_t colon = s.find(':');
    if (!IsDomainName(s.substr(0, colon))) return false;
    rest = colon == std::string_view::npos ? std::string_view() : s.substr(colon);
  }
  return rest.empty() || (rest.front() == ':' && IsPort(rest.substr(1)));
}

// path-component: [a-z0-9]+ (("." | "_" | "__" | "-"+) [a-z0-9]+)*
bool IsPathComponent(std::string_view s) {
  size_t i = 0;
  while (true) {
    if (i == s.size() || !IsLowerAlnum(s[i])) return false;
    while (i < s.size() && IsLowerAlnum(s[i])) ++i;
    if (i == s.size()) return true;
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
  }
}

// path: path-component ("/" path-component)*
bool IsPath(std::string_view s) {
  while (true) {
    size_t slash = s.find('/');
    if (!IsPathComponent(s.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    s.remove_prefix(slash + 1);
  }
}

// algorithm ":" [0-9a-fA-F]{32,}; the algorithm's components are [A-Za-z][A-Za-z0-9]* joined by
// one of "-_+.".
bool IsDigestSyntax(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view algorithm = s.substr(0, colon);
  std::string_view hex = s.substr(colon + 1);
  bool need_alpha = true;  // At the start and after each separator.
  for (char c : algorithm) {
    if (need_alpha) {
      if (!IsAlpha(c)) return false;
      need_alpha = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      need_alpha = true;
    } else if (!IsAlnum(c)) {
      return false;
    }
  }
  if (need_alpha || hex.size() < kDigestHexMin) return false;
  for (char c : hex) {
    if (!IsHex(c)) return false;
  }
  return true;
}

// The pieces of a reference that matched the grammar; views into the parsed text.
struct Match {
  std::string_view domain;  // Empty when the name has no domain part.
  std::string_view path;
  std::string_view name;  // domain "/" path, or path.
  std::string_view tag;
  std::string_view digest;
};

// Docker's anchored ReferenceRegexp. Returns false when `s` does not match.
bool MatchReference(std::string_view s, Match* m) {
  *m = Match();
  std::string_view rest = s;
  if (size_t at = s.find('@'); at != std::string_view::npos) {
    m->digest = s.substr(at + 1);
    rest = s.substr(0, at);
    if (!IsDigestSyntax(m->digest)) return false;
  }
  if (size_t colon = rest.rfind(':');
      colon != std::string_view::npos && rest.find('/', colon) == std::string_view::npos) {
    m->tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!IsValidTag(m->tag)) return false;
  }
  m->name = rest;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos &&
                                     IsDomain(rest.substr(0, slash)) &&
                                     IsPath(rest.substr(slash + 1))) {
    m->domain = rest.substr(0, slash);
    m->path = rest.substr(slash + 1);
    return true;
  }
  m->path = rest;
  return IsPath(rest);
}

absl::Status ReferenceError(std::string_view input, std::string_view reason) {
  return absl::InvalidArgumentError(fmt::format("invalid reference {:?}: {}", input, reason));
}

bool IsAllLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

bool HasUpper(std::string_view s) {
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}


// True when splitDockerDomain would take `first`, the first segment of a name with a "/", for a
// registry domain rather than a Docker Hub namespace.
bool LooksLikeDomain(std::string_view first) {
  return first.find_first_of(".:") != std::string_view::npos || first == kLocalhost ||
         HasUpper(first);
}

// Docker's splitDockerDomain: picks the registry domain of a familiar name and the remainder,
// with "library/" added to official images.
std::pair<std::string, std::string> SplitDockerDomain(std::string_view name) {
  std::string domain;
  std::string remainder;
  size_t slash = name.find('/');
  std::string_view first = name.substr(0, slash);
  if (slash == std::string_view::npos || !LooksLikeDomain(first)) {
    domain = std::string(kDefaultDomain);
    remainder = std::string(name);
  } else {
    domain = std::string(first);
    remainder = std::string(name.substr(slash + 1));
  }
  if (domain == kLegacyDefaultDomain) domain = std::string(kDefaultDomain);
  if (domain == kDefaultDomain && remainder.find('/') == std::string::npos) {
    remainder = std::string(kOfficialRepoPrefix) + remainder;
  }
  return {std::move(domain), std::move(remainder)};
}

}  // namespace

bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kTagLengthMax || !IsWord(tag.front())) return false;
  for (char c : tag) {
    if (!IsWord(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool IsDockerHub(std::string_view domain) {
  return domain == kDefaultDomain || domain == kLegacyDefaultDomain ||
         domain == "registry-1.docker.io";
}

absl::StatusOr<ImageReference> ImageReference::ParseNormalized(std::string_view text) {
  if (text.empty()) {
    return ReferenceError(text, "repository name must have at least one component");
  }
  if (IsAllLowerHex64(text)) {
    return ReferenceError(
        text,
        fmt::format("invalid repository name ({}), cannot specify 64-byte hexadecimal strings",
                    text));
  }
  auto [domain, remainder] = SplitDockerDomain(text);
  std::string_view remote = remainder;
  remote = remote.substr(0, remote.find(':'));
  if (HasUpper(remote)) {
    return ReferenceError(
        text, fmt::format("invalid reference format: repository name ({}) must be lowercase",
                          remote));
  }

  // From here on this is Docker's reference.Parse of the qualified text.
  std::string qualified = domain + "/" + remainder;
  Match m;
  // Docker's Parse also answers "repository name must be lowercase" when lowercasing the text
  // would make it match; after the check above only the domain, tag and digest can hold
  // uppercase letters, and the grammar allows them there, so that answer cannot arise here.
  if (!MatchReference(qualified, &m)) return ReferenceError(text, "invalid reference format");
  if (m.name.size() > kNameTotalLengthMax) {
    return ReferenceError(text, fmt::format("repository name must not be more than {} characters",
                                            kNameTotalLengthMax));
  }
  if (m.domain.empty()) {
    // Docker would accept this with an empty domain; see the header.
    return ReferenceError(text, "invalid reference format");
  }
  ImageReference ref;
  if (!m.digest.empty()) {
    if (absl::Status status = kim::Digest::Validate(m.digest); !status.ok()) {
      return ReferenceError(text, std::string(status.message()));
    }
    ref.digest_ = *kim::Digest::Parse(m.digest);
  }
  ref.domain_ = std::string(m.domain);
  ref.path_ = std::string(m.path);
  ref.tag_ = std::string(m.tag);
  return ref;
}

absl::StatusOr<ImageReference> ImageReference::Parse(std::string_view text) {
  absl::StatusOr<ImageReference> ref = ParseNormalized(text);
  if (!ref.ok()) return ref;
  if (ref->String() != text) return ReferenceError(text, "repository name must be canonical");
  return ref;
}

std::string ImageReference::Name() const { return domain_ + "/" + path_; }

std::string ImageReference::String() const {
  std::string out = Name();
  if (HasTag()) out += ":" + tag_;
  if (HasDigest()) out += "@" + digest_->String();
  return out;
}

std::string ImageReference::FamiliarName() const {
  if (domain_ != kDefaultDomain) return Name();
  std::string_view path = path_;
  if (path.starts_with(kOfficialRepoPrefix)) {
    path.remove_prefix(kOfficialRepoPrefix.size());
    if (path.find('/') == std::string_view::npos) return std::string(path);
  }
  // Docker would print "foo.bar/app" for "docker.io/foo.bar/app", which reads back as registry
  // "foo.bar"; keep the domain so the familiar name means the same repository.
  if (LooksLikeDomain(path_.substr(0, path_.find('/')))) return Name();
  return path_;
}

std::string ImageReference::FamiliarString() const {
  std::string out = FamiliarName();
  if (HasTag()) out += ":" + tag_;
  if (HasDigest()) out += "@" + digest_->String();
  return out;
}

ImageReference ImageReference::WithDefaultTag() const {
  ImageReference copy = *this;
  if (!HasTag() && !HasDigest()) copy.tag_ = std::string(kDefaultTag);
  return copy;
}

absl::StatusOr<ImageReference> ImageReference::WithTag(std::string_view tag) const {
  if (!IsValidTag(tag)) {
    return absl::InvalidArgumentError(fmt::format("invalid tag {:?}: invalid tag format", tag));
  }
  ImageReference copy = *this;
  copy.tag_ = std::string(tag);
  return copy;
}

ImageReference ImageReference::WithDigest(const kim::Digest& digest) const {
  ImageReference copy = *this;
  copy.digest_ = digest;
  return copy;
}

ImageReference ImageReference::NameOnly() const {
  ImageReference copy;
  copy.domain_ = domain_;
  copy.path_ = path_;
  return copy;
}

}  // namespace kim
