// Tests for MergeCredentials and CredentialStore (kim/credentials.h): the user's registry
// credentials merged with those stored in the cluster.
#include <catch2/catch.hpp>

#include "kim/credentials.h"

namespace kim {
namespace {

RegistryCredentials Basic(const std::string& user, const std::string& password) {
  RegistryCredentials credentials;
  credentials.username = user;
  credentials.password = password;
  return credentials;
}

DockerConfig Config(const std::string& json) {
  auto config = DockerConfig::Parse(json, "test config");
  INFO(config.status());
  REQUIRE(config.ok());
  return *config;
}

std::string Auth(const std::string& host, const std::string& user, const std::string& password) {
  return "\"" + host + "\":{\"auth\":\"" + EncodeAuth(user, password) + "\"}";
}

TEST_CASE("MergeCredentials: the user's credentials win over the cluster's", "[credentials]") {
  auto merged = MergeCredentials(Basic("me", "mine"), Basic("cluster", "theirs"));
  REQUIRE(merged.ok());
  CHECK(merged->username == "me");
  CHECK(merged->password == "mine");
}

TEST_CASE("MergeCredentials: the cluster's serve when the user has none", "[credentials]") {
  auto merged = MergeCredentials(RegistryCredentials(), Basic("cluster", "theirs"));
  REQUIRE(merged.ok());
  CHECK(merged->username == "cluster");

  // Nothing anywhere: anonymous.
  merged = MergeCredentials(RegistryCredentials(), RegistryCredentials());
  REQUIRE(merged.ok());
  CHECK(merged->empty());

  // An identity token counts as credentials.
  RegistryCredentials token;
  token.identity_token = "refresh";
  merged = MergeCredentials(token, Basic("cluster", "theirs"));
  REQUIRE(merged.ok());
  CHECK(merged->identity_token == "refresh");
  CHECK(merged->username.empty());
}

TEST_CASE("MergeCredentials: a failed user lookup falls back, else is the answer", "[credentials]") {
  const absl::Status helper_failed = absl::UnavailableError("docker-credential-x failed");
  auto merged = MergeCredentials(helper_failed, Basic("cluster", "theirs"));
  REQUIRE(merged.ok());
  CHECK(merged->username == "cluster");

  merged = MergeCredentials(helper_failed, RegistryCredentials());
  CHECK(merged.status() == helper_failed);

  // The cluster's lookup failing does not hide the user's anonymous answer.
  merged = MergeCredentials(RegistryCredentials(), absl::InternalError("bad"));
  REQUIRE(merged.ok());
  CHECK(merged->empty());
}

TEST_CASE("CredentialStore: per registry, a user entry wins and cluster entries fill in",
          "[credentials]") {
  const DockerConfig user = Config("{\"auths\":{" + Auth("registry.example.com:5000", "me", "mine") + "}}");
  const DockerConfig cluster = Config(
      "{\"auths\":{" + Auth("registry.example.com:5000", "cluster", "theirs") + "," +
      Auth("other.example.com", "cluster", "other") + "," +
      Auth("https://index.docker.io/v1/", "hub", "hubpass") + "}}");
  const CredentialStore store(user, cluster);

  auto got = store.CredentialsFor("registry.example.com:5000");
  REQUIRE(got.ok());
  CHECK(got->username == "me");
  CHECK(got->password == "mine");

  got = store.CredentialsFor("other.example.com");
  REQUIRE(got.ok());
  CHECK(got->username == "cluster");
  CHECK(got->password == "other");

  // Docker Hub's entry serves every spelling of Docker Hub.
  got = store.CredentialsFor("docker.io");
  REQUIRE(got.ok());
  CHECK(got->username == "hub");

  got = store.CredentialsFor("unknown.example.com");
  REQUIRE(got.ok());
  CHECK(got->empty());

  CHECK(store.cluster().CredentialsFor("registry.example.com:5000")->username == "cluster");
}

TEST_CASE("CredentialStore: a user config that cannot be loaded", "[credentials]") {
  const DockerConfig cluster = Config("{\"auths\":{" + Auth("other.example.com", "cluster", "other") + "}}");
  const CredentialStore store(absl::InvalidArgumentError("config.json: invalid JSON"), cluster);
  auto got = store.CredentialsFor("other.example.com");
  REQUIRE(got.ok());
  CHECK(got->username == "cluster");
  got = store.CredentialsFor("unknown.example.com");
  CHECK(got.status().message() == "config.json: invalid JSON");
}

}  // namespace
}  // namespace kim
