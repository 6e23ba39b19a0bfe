// Fuzz target for what a registry answers before a push or pull: WWW-Authenticate challenges and
// the token server's JSON, plus the scope lists built from the challenge's "scope". Beyond "does
// not crash": schemes and parameter names come back lowercased, a token is never empty and never
// expires before it was issued, and merging scopes is idempotent.
#include <cctype>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "lib/images/registry_auth.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

namespace {

bool Lowercase(const std::string& text) {
  for (char c : text) {
    if (std::isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = kim::fuzz::AsText(data, size);
  auto challenges = kim::ParseAuthChallenges(input);
  if (challenges.ok()) {
    for (const kim::AuthChallenge& challenge : *challenges) {
      Require(!challenge.scheme.empty() && Lowercase(challenge.scheme), "scheme lowercased");
      for (const auto& [name, value] : challenge.params) Require(Lowercase(name), "names lowercased");
    }
    if (const kim::AuthChallenge* bearer = kim::FindChallenge(*challenges, "bearer")) {
      const std::vector<std::string> scopes = absl::StrSplit(bearer->Param("scope"), ' ');
      const std::vector<std::string> merged = kim::MergeScopes(scopes, {"repository:a/b:pull"});
      Require(kim::MergeScopes(merged) == merged, "merging scopes is idempotent");
    }
  } else {
    Require(absl::IsInvalidArgument(challenges.status()), "challenge errors are InvalidArgument");
  }
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  auto token = kim::ParseTokenResponse(input, now);
  if (token.ok()) {
    Require(!token->token.empty(), "a token is not empty");
  } else {
    Require(absl::IsInvalidArgument(token.status()), "token errors are InvalidArgument");
  }
  kim::TokenCache cache;
  if (token.ok()) {
    cache.Put({"repository:a/b:pull"}, *token);
    (void)cache.Get({"repository:a/b:pull"}, now);
  }
  return 0;
}
