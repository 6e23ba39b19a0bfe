// WWW-Authenticate parsing, token answers, scopes and the token cache.
#include <catch2/catch.hpp>

#include "absl/time/time.h"
#include "lib/images/registry_auth.h"
#include "lib/images/registry_transport.h"

using kim::AuthChallenge;
using kim::ParseAuthChallenges;

namespace {

std::vector<AuthChallenge> Parse(const std::string& header) {
  auto challenges = ParseAuthChallenges(header);
  INFO(header << " -> " << challenges.status().ToString());
  REQUIRE(challenges.ok());
  return *challenges;
}

}  // namespace

TEST_CASE("WWW-Authenticate: Basic realm", "[registry][auth]") {
  const auto challenges = Parse(R"(Basic realm="Registry Realm")");
  REQUIRE(challenges.size() == 1);
  CHECK(challenges[0].scheme == "basic");
  CHECK(challenges[0].Param("realm") == "Registry Realm");
  CHECK(challenges[0].Param("service").empty());
}

TEST_CASE("WWW-Authenticate: Bearer with realm, service and scope", "[registry][auth]") {
  const auto challenges = Parse(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:library/alpine:pull,push")");
  REQUIRE(challenges.size() == 1);
  CHECK(challenges[0].scheme == "bearer");
  CHECK(challenges[0].Param("realm") == "https://auth.docker.io/token");
  CHECK(challenges[0].Param("service") == "registry.docker.io");
  CHECK(challenges[0].Param("scope") == "repository:library/alpine:pull,push");
}

TEST_CASE("WWW-Authenticate: case, spaces, unquoted values and escapes", "[registry][auth]") {
  const auto challenges =
      Parse(R"(  BEARER  Realm = http://127.0.0.1:5000/token , Service="a \"quoted\" \\ name",error=insufficient_scope )");
  REQUIRE(challenges.size() == 1);
  CHECK(challenges[0].scheme == "bearer");
  CHECK(challenges[0].Param("realm") == "http://127.0.0.1:5000/token");
  CHECK(challenges[0].Param("service") == R"(a "quoted" \ name)");
  CHECK(challenges[0].Param("error") == "insufficient_scope");
}

TEST_CASE("WWW-Authenticate: commas inside quoted values", "[registry][auth]") {
  const auto challenges = Parse(R"(Bearer scope="repository:a:pull,push",realm="r")");
  REQUIRE(challenges.size() == 1);
  CHECK(challenges[0].Param("scope") == "repository:a:pull,push");
  CHECK(challenges[0].Param("realm") == "r");
}

TEST_CASE("WWW-Authenticate: several challenges in one header", "[registry][auth]") {
  const auto challenges =
      Parse(R"(Negotiate, Basic realm="basic", Bearer realm="https://t/token",service="s")");
  REQUIRE(challenges.size() == 3);
  CHECK(challenges[0].scheme == "negotiate");
  CHECK(challenges[0].params.empty());
  CHECK(challenges[1].scheme == "basic");
  CHECK(challenges[1].Param("realm") == "basic");
  CHECK(challenges[2].scheme == "bearer");
  CHECK(challenges[2].Param("service") == "s");
  CHECK(kim::FindChallenge(challenges, "bearer") == &challenges[2]);
  CHECK(kim::FindChallenge(challenges, "digest") == nullptr);
}

TEST_CASE("WWW-Authenticate: token68 and empty list elements", "[registry][auth]") {
  auto challenges = Parse("Negotiate dG9rZW4=, , Basic realm=x");
  REQUIRE(challenges.size() == 2);
  CHECK(challenges[0].token68 == "dG9rZW4=");
  CHECK(challenges[1].Param("realm") == "x");
  // Without '=' (or with padding only) a lone word is a token68, as RFC 7235 reads.
  challenges = Parse("Bearer realm=");
  REQUIRE(challenges.size() == 1);
  CHECK(challenges[0].token68 == "realm=");
  CHECK(challenges[0].params.empty());
  challenges = Parse("Basic");
  REQUIRE(challenges.size() == 1);
  CHECK(challenges[0].scheme == "basic");
}

TEST_CASE("WWW-Authenticate: bad headers are refused with a reason", "[registry][auth]") {
  for (const std::string header :
       {"", "  ,  ", R"(Bearer realm="unterminated)", R"(Bearer realm=,service=x)",
        R"(Bearer realm x)", R"(Bearer realm="a",=b)",
        R"(Bearer realm="a" service="b")", R"(Bearer realm="a",realm="b")", R"(="x")",
        R"(Bearer realm="a";x)"}) {
    INFO("header: " << header);
    auto challenges = ParseAuthChallenges(header);
    CHECK(challenges.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(challenges.status().message()).starts_with("invalid WWW-Authenticate"));
  }
}

TEST_CASE("token answers: token, access_token, expiry", "[registry][auth]") {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  auto token = kim::ParseTokenResponse(R"({"token":"t1","expires_in":300})", now);
  REQUIRE(token.ok());
  CHECK(token->token == "t1");
  CHECK(token->expires == now + absl::Seconds(300));

  token = kim::ParseTokenResponse(R"({"token":"t1","access_token":"t2"})", now);
  REQUIRE(token.ok());
  CHECK(token->token == "t2");
  CHECK(token->expires == now + absl::Seconds(60));  // default and minimum

  token = kim::ParseTokenResponse(
      R"({"token":"t","expires_in":120,"issued_at":"2023-11-14T22:12:50Z"})", now);
  REQUIRE(token.ok());
  CHECK(token->expires == absl::FromUnixSeconds(1699999970) + absl::Seconds(120));

  CHECK_FALSE(kim::ParseTokenResponse("not json", now).ok());
  CHECK_FALSE(kim::ParseTokenResponse(R"({"expires_in":60})", now).ok());
  CHECK_FALSE(kim::ParseTokenResponse(R"({"token":""})", now).ok());
  CHECK_FALSE(kim::ParseTokenResponse("[]", now).ok());
}

TEST_CASE("scopes: merged per repository and sorted", "[registry][auth]") {
  CHECK(kim::RepositoryScope("library/app", "pull,push") == "repository:library/app:pull,push");
  CHECK(kim::MergeScopes({"repository:b:push", "repository:a:pull"}, {"repository:b:pull"}) ==
        std::vector<std::string>{"repository:a:pull", "repository:b:pull,push"});
  CHECK(kim::MergeScopes({"repository:localhost:5000/x:pull"}) ==
        std::vector<std::string>{"repository:localhost:5000/x:pull"});
  CHECK(kim::MergeScopes({"registry:catalog:*", "odd"}) ==
        std::vector<std::string>{"odd", "registry:catalog:*"});
}

TEST_CASE("token cache: per scope set, until shortly before expiry", "[registry][auth]") {
  kim::TokenCache cache;
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  const std::vector<std::string> scopes{"repository:a:pull,push"};
  CHECK_FALSE(cache.Get(scopes, now).has_value());
  cache.Put(scopes, kim::BearerToken{"t", now + absl::Seconds(60)});
  CHECK(cache.Get(scopes, now) == "t");
  CHECK_FALSE(cache.Get({"repository:a:pull"}, now).has_value());
  CHECK_FALSE(cache.Get(scopes, now + absl::Seconds(55)).has_value());
  cache.Clear();
  CHECK_FALSE(cache.Get(scopes, now).has_value());
}

TEST_CASE("registry hosts: loopback means plain HTTP", "[registry][auth]") {
  CHECK(kim::IsLoopbackHost("127.0.0.1:5000"));
  CHECK(kim::IsLoopbackHost("127.1.2.3"));
  CHECK(kim::IsLoopbackHost("localhost:5000"));
  CHECK(kim::IsLoopbackHost("LOCALHOST"));
  CHECK(kim::IsLoopbackHost("[::1]:5000"));
  CHECK_FALSE(kim::IsLoopbackHost("127.example.com"));
  CHECK_FALSE(kim::IsLoopbackHost("ghcr.io"));
  CHECK_FALSE(kim::IsLoopbackHost("10.0.0.1:5000"));
  CHECK_FALSE(kim::IsLoopbackHost("[::2]:5000"));
}

TEST_CASE("registry errors: the error list as one line", "[registry][auth]") {
  CHECK(kim::RegistryErrorText(
            R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:x"}]})") ==
        "BLOB_UNKNOWN: blob unknown to registry (sha256:x)");
  CHECK(kim::RegistryErrorText(
            R"({"errors":[{"code":"A","message":"a"},{"code":"B","message":"b","detail":{"k":1}}]})") ==
        R"(A: a; B: b ({"k":1}))");
  CHECK(kim::RegistryErrorText("").empty());
  CHECK(kim::RegistryErrorText("<html>").empty());
  CHECK(kim::RegistryErrorText("{broken").empty());
}

TEST_CASE("registry errors: a registry's full disk is named, with what to do", "[registry]") {
  // docker-distribution's filesystem driver: the system error number in the error's detail
  const std::string full =
      R"({"errors":[{"code":"UNKNOWN","message":"unknown error","detail":{"DriverName":"filesystem","Enclosed":{"Err":28,"Op":"write","Path":"/data/x"}}}]})";
  web::http::http_response failed(web::http::status_codes::InternalError);
  failed.set_reason_phrase("Internal Server Error");
  const std::string text = kim::DescribeResponse(failed, full);
  CHECK(text.starts_with("500 Internal Server Error: UNKNOWN: unknown error ("));
  CHECK(text.ends_with(" (the registry's storage is full: no space left on device; free space "
                       "there, then push again)"));
  CHECK_FALSE(kim::DescribeResponse(failed, R"({"errors":[]})").ends_with(")"));
  web::http::http_response refused(web::http::status_codes::BadRequest);
  refused.set_reason_phrase("Bad Request");
  CHECK(kim::DescribeResponse(refused, full).find("storage is full") == std::string::npos);
}
