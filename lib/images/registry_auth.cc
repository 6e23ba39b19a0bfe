// WWW-Authenticate parsing, token answers, scopes and the token cache.
#include "lib/images/registry_auth.h"

#include <algorithm>
#include <set>
#include <utility>

#include <cpprest/json.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kim {
namespace {

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken68Char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-._~+/").find(c) != std::string_view::npos;
}

// A cursor over one header value.
class ChallengeParser {
 public:
  explicit ChallengeParser(std::string_view text) : text_(text) {}

  absl::StatusOr<std::vector<AuthChallenge>> Parse() {
    std::vector<AuthChallenge> challenges;
    SkipSpacesAndCommas();
    if (AtEnd()) return Error("empty header");
    while (!AtEnd()) {
      AuthChallenge challenge;
      challenge.scheme = absl::AsciiStrToLower(ReadToken());
      if (challenge.scheme.empty()) return Error("expected an authentication scheme");
      // The scheme is followed by spaces, a comma (next challenge) or the end.
      if (!AtEnd() && text_[pos_] != ' ' && text_[pos_] != '\t' && text_[pos_] != ',') {
        return Error(absl::StrCat("unexpected character '", std::string(text_.substr(pos_, 1)),
                                  "' after scheme ", challenge.scheme));
      }
      SkipSpaces();
      if (auto status = ParseParams(challenge); !status.ok()) return status;
      challenges.push_back(std::move(challenge));
      SkipSpacesAndCommas();
    }
    return challenges;
  }

 private:
  // Parameters (or a token68) of the current challenge; stops before the next challenge's scheme
  // (a word after a comma that is not followed by '=').
  absl::Status ParseParams(AuthChallenge& challenge) {
    if (AtEnd() || text_[pos_] == ',') return absl::OkStatus();
    // "Negotiate abc==": a token68 is the only thing after the scheme.
    const size_t start = pos_;
    std::string token68 = ReadToken68();
    SkipSpaces();
    if (!token68.empty() && (AtEnd() || text_[pos_] == ',')) {
      challenge.token68 = std::move(token68);
      return absl::OkStatus();
    }
    pos_ = start;
    bool first = true;
    while (true) {
      const size_t name_start = pos_;
      std::string name = ReadToken();
      if (name.empty()) return Error("expected a parameter name").status();
      SkipSpaces();
      if (AtEnd() || text_[pos_] != '=') {
        if (first) return Error(absl::StrCat("expected '=' after \"", name, "\"")).status();
        pos_ = name_start;  // the scheme of the next challenge
        return absl::OkStatus();
      }
      ++pos_;  // '='
      SkipSpaces();
      std::string value;
      if (!AtEnd() && text_[pos_] == '"') {
        auto quoted = ReadQuoted();
        if (!quoted.ok()) return quoted.status();
        value = *std::move(quoted);
      } else {
        // Lenient: a bare value runs to the next comma or space, so that unquoted URLs
        // (realm=https://host/token), which some servers send, are accepted.
        value = ReadBareValue();
        if (value.empty()) {
          return Error(absl::StrCat("missing value for parameter \"", name, "\"")).status();
        }
      }
      name = absl::AsciiStrToLower(name);
      if (challenge.params.contains(name)) {
        return Error(absl::StrCat("parameter \"", name, "\" given twice")).status();
      }
      challenge.params.emplace(std::move(name), std::move(value));
      first = false;
      SkipSpaces();
      if (AtEnd()) return absl::OkStatus();
      if (text_[pos_] != ',') {
        return Error(absl::StrCat("unexpected character '", std::string(text_.substr(pos_, 1)),
                                  "' after a parameter"))
            .status();
      }
      SkipSpacesAndCommas();
      if (AtEnd()) return absl::OkStatus();
    }
  }

  std::string ReadToken() {
    const size_t start = pos_;
    while (!AtEnd() && IsTokenChar(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string ReadBareValue() {
    const size_t start = pos_;
    while (!AtEnd() && text_[pos_] != ',' && text_[pos_] != ' ' && text_[pos_] != '\t' &&
           text_[pos_] != '"') {
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string ReadToken68() {
    const size_t start = pos_;
    while (!AtEnd() && IsToken68Char(text_[pos_])) ++pos_;
    if (pos_ == start) return "";
    while (!AtEnd() && text_[pos_] == '=') ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  absl::StatusOr<std::string> ReadQuoted() {
    ++pos_;  // opening quote
    std::string value;
    while (!AtEnd()) {
      const char c = text_[pos_++];
      if (c == '"') return value;
      if (c == '\\') {
        if (AtEnd()) break;
        value.push_back(text_[pos_++]);
      } else {
        value.push_back(c);
      }
    }
    return Error("unterminated quoted string").status();
  }

  void SkipSpaces() {
    while (!AtEnd() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  void SkipSpacesAndCommas() {
    while (!AtEnd() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == ',')) ++pos_;
  }
  bool AtEnd() const { return pos_ >= text_.size(); }

  absl::StatusOr<std::vector<AuthChallenge>> Error(const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat("invalid WWW-Authenticate header \"",
                                                   std::string(text_), "\": ", what,
                                                   " at offset ", pos_));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// Splits "type:name:actions" (the name may itself contain ':', e.g. a registry with a port).
bool SplitScope(std::string_view scope, std::string& resource, std::string& actions) {
  const size_t first = scope.find(':');
  const size_t last = scope.rfind(':');
  if (first == std::string_view::npos || first == last) return false;
  resource = std::string(scope.substr(0, last));
  actions = std::string(scope.substr(last + 1));
  return true;
}

}  // namespace

std::string AuthChallenge::Param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? "" : it->second;
}

absl::StatusOr<std::vector<AuthChallenge>> ParseAuthChallenges(std::string_view header) {
  return ChallengeParser(header).Parse();
}

const AuthChallenge* FindChallenge(const std::vector<AuthChallenge>& challenges,
                                   std::string_view scheme) {
  for (const auto& challenge : challenges) {
    if (challenge.scheme == scheme) return &challenge;
  }
  return nullptr;
}

absl::StatusOr<BearerToken> ParseTokenResponse(std::string_view body, absl::Time now) {
  web::json::value json;
  try {
    json = web::json::value::parse(std::string(body));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("token server answer is not JSON: ", e.what()));
  }
  if (!json.is_object()) return absl::InvalidArgumentError("token server answer is not an object");
  BearerToken token;
  for (const char* field : {"access_token", "token"}) {
    if (json.has_string_field(field) && !json.at(field).as_string().empty()) {
      token.token = json.at(field).as_string();
      break;
    }
  }
  if (token.token.empty()) {
    return absl::InvalidArgumentError("token server answer holds no token");
  }
  int64_t expires_in = 0;
  if (json.has_number_field("expires_in") && json.at("expires_in").is_integer()) {
    expires_in = json.at("expires_in").as_number().to_int64();
  }
  if (expires_in < 60) expires_in = 60;  // Docker's token spec: less than 60 s means 60 s
  absl::Time issued = now;
  if (json.has_string_field("issued_at")) {
    absl::Time parsed;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, json.at("issued_at").as_string(), &parsed, &error)) {
      // Trust the server's clock only when it agrees roughly with ours.
      if (absl::AbsDuration(parsed - now) < absl::Minutes(5)) issued = parsed;
    }
  }
  token.expires = issued + absl::Seconds(expires_in);
  return token;
}

std::string RepositoryScope(std::string_view repository, std::string_view actions) {
  return absl::StrCat("repository:", std::string(repository), ":", std::string(actions));
}

std::vector<std::string> MergeScopes(const std::vector<std::string>& wanted,
                                     const std::vector<std::string>& extra) {
  std::map<std::string, std::set<std::string>> by_resource;
  std::set<std::string> opaque;
  for (const auto* list : {&wanted, &extra}) {
    for (const auto& scope : *list) {
      std::string resource, actions;
      if (!SplitScope(scope, resource, actions)) {
        if (!scope.empty()) opaque.insert(scope);
        continue;
      }
      auto& set = by_resource[resource];
      for (absl::string_view action : absl::StrSplit(actions, ',', absl::SkipEmpty())) {
        set.insert(std::string(action));
      }
    }
  }
  std::vector<std::string> merged;
  for (const auto& [resource, actions] : by_resource) {
    merged.push_back(absl::StrCat(resource, ":", absl::StrJoin(actions, ",")));
  }
  merged.insert(merged.end(), opaque.begin(), opaque.end());
  std::sort(merged.begin(), merged.end());
  return merged;
}

std::string TokenCache::Key(const std::vector<std::string>& scopes) {
  return absl::StrJoin(scopes, " ");
}

std::optional<std::string> TokenCache::Get(const std::vector<std::string>& scopes,
                                           absl::Time now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = tokens_.find(Key(scopes));
  // Leave a margin so that a token does not expire between this check and the request.
  if (it == tokens_.end() || it->second.expires - absl::Seconds(10) <= now) return std::nullopt;
  return it->second.token;
}

void TokenCache::Put(const std::vector<std::string>& scopes, BearerToken token) {
  std::lock_guard<std::mutex> lock(mutex_);
  tokens_[Key(scopes)] = std::move(token);
}

void TokenCache::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  tokens_.clear();
}

}  // namespace kim
