// The kim-docker-config Secret: login, logout, and reading it back as a Docker config.
#include "lib/kube/cluster_credentials.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/object_helpers.h"

namespace kim::kube {
namespace {

constexpr char kConfigKey[] = ".dockerconfigjson";
constexpr char kConfigType[] = "kubernetes.io/dockerconfigjson";

// The Secret's Docker config as JSON with an "auths" object; a fresh one when it is missing or
// unreadable (login then replaces it).
Json SecretConfig(const std::optional<Json>& secret) {
  Json config = Json::object();
  const std::string text = secret ? DecodedField(*secret, kConfigKey) : "";
  try {
    if (!text.empty()) config = Json::parse(text);
  } catch (const std::exception&) {
    config = Json::object();
  }
  if (!config.is_object()) config = Json::object();
  if (!config.has_field("auths") || !config.at("auths").is_object()) config["auths"] = Json::object();
  return config;
}

void SetSecretConfig(Json& secret, const Json& config) {
  if (!secret.has_field("data") || !secret.at("data").is_object()) secret["data"] = Json::object();
  secret["data"][kConfigKey] = Json::string(absl::Base64Escape(config.serialize()));
}

}  // namespace

absl::StatusOr<DockerConfig> ReadClusterCredentials(Client& client, const std::string& ns) {
  auto secret = client.Get(kSecrets, ns, kDockerConfigSecret);
  if (absl::IsNotFound(secret.status())) return DockerConfig();
  if (!secret.ok()) return secret.status();
  const std::string origin = absl::StrCat("secret ", ns, "/", kDockerConfigSecret);
  const std::string text = DecodedField(*secret, kConfigKey);
  Json only_auths = Json::object();
  try {
    Json config = text.empty() ? Json::object() : Json::parse(text);
    if (config.is_object() && config.has_field("auths")) only_auths["auths"] = config.at("auths");
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": invalid JSON: ", e.what()));
  }
  return DockerConfig::Parse(only_auths.serialize(), origin);
}

absl::Status StoreClusterLogin(Client& client, const std::string& ns, const LoginOptions& options) {
  const std::string key = RegistryKey(options.server);
  auto stored = client.CreateOrUpdate(
      kSecrets, ns, kDockerConfigSecret, [&](std::optional<Json>& secret) -> absl::StatusOr<bool> {
        if (!secret) {
          secret = Json::parse(absl::StrCat(R"({"metadata":{"name":")", kDockerConfigSecret,
                                            R"(","labels":{")", kManagedByLabel, R"(":"kim"}},)",
                                            R"("type":")", kConfigType, R"(","data":{}})"));
        } else if (const std::string type = JsonString(*secret, {"type"}); type != kConfigType) {
          return absl::FailedPreconditionError(absl::StrCat(
              "secret \"", kDockerConfigSecret, "\" in namespace \"", ns, "\" has type \"", type,
              "\", not ", kConfigType, "; delete it first"));
        }
        Json config = SecretConfig(secret);
        Json entry = Json::object();
        entry["username"] = Json::string(options.username);
        entry["password"] = Json::string(options.password);
        entry["auth"] = Json::string(absl::Base64Escape(options.username + ":" + options.password));
        config["auths"][key] = entry;
        SetSecretConfig(*secret, config);
        return true;
      });
  return stored.status();
}

absl::Status EraseClusterLogin(Client& client, const std::string& ns, const std::string& server) {
  const std::string key = RegistryKey(server);
  bool empty = false;
  auto stored = client.CreateOrUpdate(
      kSecrets, ns, kDockerConfigSecret, [&](std::optional<Json>& secret) -> absl::StatusOr<bool> {
        Json config = SecretConfig(secret);
        if (!secret || !config.at("auths").has_field(key)) {
          return absl::NotFoundError(absl::StrCat("not logged in to ", key));
        }
        config["auths"].erase(key);
        empty = config["auths"].size() == 0;
        SetSecretConfig(*secret, config);
        return true;
      });
  if (!stored.ok()) return stored.status();
  if (empty) return IgnoreNotFound(client.Delete(kSecrets, ns, kDockerConfigSecret));
  return absl::OkStatus();
}

}  // namespace kim::kube
