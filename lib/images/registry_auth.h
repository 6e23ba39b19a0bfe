// Registry authentication without I/O: WWW-Authenticate challenges (RFC 7235), token-server
// answers, token scopes and a per-scope token cache. The HTTP side (asking the realm for a token,
// retrying a request) is in registry_transport.h. Internal to libkim.
#ifndef KIM_LIB_IMAGES_REGISTRY_AUTH_H_
#define KIM_LIB_IMAGES_REGISTRY_AUTH_H_

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kim {

// One challenge of a WWW-Authenticate header, e.g.
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a:pull"
struct AuthChallenge {
  std::string scheme;                         // lowercased: "basic", "bearer", ...
  std::map<std::string, std::string> params;  // names lowercased, values unquoted/unescaped
  std::string token68;                        // the opaque form ("Negotiate abc=="), rarely used

  // The value of parameter `name` (lowercase), or "" when absent.
  std::string Param(std::string_view name) const;
};

// Parses a WWW-Authenticate value holding one or more challenges separated by commas, with
// parameters as token=token or token="quoted \"string\"". Several WWW-Authenticate headers can be
// joined with ", " first (that is how cpprestsdk hands them over). Returns InvalidArgument
// naming the problem (empty header, unterminated quote, missing scheme, ...).
absl::StatusOr<std::vector<AuthChallenge>> ParseAuthChallenges(std::string_view header);

// The first challenge with `scheme` (lowercase), or nullptr.
const AuthChallenge* FindChallenge(const std::vector<AuthChallenge>& challenges,
                                   std::string_view scheme);

// A token from a registry's token server.
struct BearerToken {
  std::string token;
  absl::Time expires = absl::InfinitePast();
};

// Parses a token server's JSON answer ({"token": ..., "access_token": ..., "expires_in": s,
// "issued_at": RFC 3339}); "access_token" wins over "token". A missing or short expires_in means
// 60 s, as in Docker's token spec. The token is taken as issued at `now` when issued_at is absent
// or unparseable. Returns InvalidArgument when the body is not JSON or has no token.
absl::StatusOr<BearerToken> ParseTokenResponse(std::string_view body, absl::Time now);

// "repository:<name>:<actions>", e.g. RepositoryScope("library/app", "pull,push").
std::string RepositoryScope(std::string_view repository, std::string_view actions);

// The scopes of `wanted` and `extra` merged: one entry per resource, actions united and sorted
// ("repository:a:push" + "repository:a:pull" -> "repository:a:pull,push"); the result is sorted,
// so it serves as a cache key. Scopes that are not type:name:actions are kept as they are.
std::vector<std::string> MergeScopes(const std::vector<std::string>& wanted,
                                     const std::vector<std::string>& extra = {});

// Bearer tokens by scope set, until shortly before they expire. Thread-safe.
class TokenCache {
 public:
  // A token for exactly `scopes` (as MergeScopes orders them) still valid at `now`.
  std::optional<std::string> Get(const std::vector<std::string>& scopes, absl::Time now) const;
  void Put(const std::vector<std::string>& scopes, BearerToken token);
  // Forgets every token (after the registry refused one).
  void Clear();

 private:
  static std::string Key(const std::vector<std::string>& scopes);

  mutable std::mutex mutex_;
  std::map<std::string, BearerToken> tokens_;
};

}  // namespace kim

#endif  // KIM_LIB_IMAGES_REGISTRY_AUTH_H_
