// Kubeconfig files → RestConfig, following client-go's loading rules (clientcmd).
#include "lib/kube/kubeconfig.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kim::kube {
namespace {

namespace fs = std::filesystem;

// Fields holding file paths, resolved against the defining file's directory.
bool IsPathField(const std::string& key) {
  return key == "certificate-authority" || key == "client-certificate" || key == "client-key" ||
         key == "tokenFile";
}

std::string Resolve(const std::string& path, const std::string& directory) {
  if (path.empty() || directory.empty()) return path;
  fs::path p(path);
  if (p.is_absolute()) return path;
  return (fs::path(directory) / p).lexically_normal().string();
}

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(what, " \"", path, "\": no such file"));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::PermissionDeniedError(absl::StrCat(what, " \"", path, "\": cannot be read"));
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

absl::Status ShapeError(const std::string& origin, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("kubeconfig \"", origin, "\": ", what));
}

// Reads `list` (clusters/users/contexts): a sequence of {name, <inner>: map}.
absl::Status ParseList(const YAML::Node& root, const char* list, const char* inner,
                       const std::string& origin, const std::string& directory,
                       std::map<std::string, NamedEntry>& out) {
  const YAML::Node items = root[list];
  if (!items || items.IsNull()) return absl::OkStatus();
  if (!items.IsSequence()) return ShapeError(origin, absl::StrCat("\"", list, "\" is not a list"));
  for (const YAML::Node& item : items) {
    if (!item.IsMap() || !item["name"] || !item["name"].IsScalar()) {
      return ShapeError(origin, absl::StrCat("an entry of \"", list, "\" has no name"));
    }
    NamedEntry entry;
    entry.name = item["name"].as<std::string>();
    entry.origin = origin;
    const YAML::Node body = item[inner];
    if (body && !body.IsNull()) {
      if (!body.IsMap()) {
        return ShapeError(origin, absl::StrCat(list, " \"", entry.name, "\": \"", inner,
                                               "\" is not a map"));
      }
      for (const auto& field : body) {
        const std::string key = field.first.as<std::string>();
        if (key == "exec") {
          const YAML::Node exec = field.second;
          if (!exec.IsMap()) return ShapeError(origin, "\"exec\" is not a map");
          ExecConfig config;
          if (exec["apiVersion"]) config.api_version = exec["apiVersion"].as<std::string>();
          if (exec["command"]) config.command = exec["command"].as<std::string>();
          if (config.command.find('/') != std::string::npos) {
            config.command = Resolve(config.command, directory);
          }
          if (exec["args"] && exec["args"].IsSequence()) {
            for (const auto& arg : exec["args"]) config.args.push_back(arg.as<std::string>());
          }
          if (exec["env"] && exec["env"].IsSequence()) {
            for (const auto& env : exec["env"]) {
              if (!env["name"]) return ShapeError(origin, "an exec env entry has no name");
              config.env.emplace_back(env["name"].as<std::string>(),
                                      env["value"] ? env["value"].as<std::string>() : "");
            }
          }
          if (exec["provideClusterInfo"]) {
            config.provide_cluster_info = exec["provideClusterInfo"].as<bool>();
          }
          if (exec["installHint"]) config.install_hint = exec["installHint"].as<std::string>();
          entry.exec = std::move(config);
          continue;
        }
        if (!field.second.IsScalar()) continue;  // extensions, auth-provider config, ...
        std::string value = field.second.as<std::string>();
        if (IsPathField(key)) value = Resolve(value, directory);
        entry.fields[key] = std::move(value);
      }
      if (body["auth-provider"]) {
        entry.fields["auth-provider"] =
            body["auth-provider"]["name"] ? body["auth-provider"]["name"].as<std::string>() : "?";
      }
    }
    out.emplace(entry.name, std::move(entry));  // first entry of a name wins within a file too
  }
  return absl::OkStatus();
}

bool IsTrue(const std::string& value) { return value == "true" || value == "True"; }

}  // namespace

absl::StatusOr<MergedKubeconfig> ParseKubeconfig(const std::string& text, const std::string& origin,
                                                 const std::string& directory) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig \"", origin, "\": invalid YAML at line ",
                                                   e.mark.line + 1, ", column ", e.mark.column + 1,
                                                   ": ", e.msg));
  }
  MergedKubeconfig config;
  config.files.push_back(origin);
  if (!root || root.IsNull()) return config;  // an empty file is an empty config
  if (!root.IsMap()) return ShapeError(origin, "not a kubeconfig (expected a YAML map)");
  try {
    if (root["current-context"] && root["current-context"].IsScalar()) {
      config.current_context = root["current-context"].as<std::string>();
    }
    for (const auto& [list, inner, out] :
         {std::tuple{"clusters", "cluster", &config.clusters},
          std::tuple{"users", "user", &config.users},
          std::tuple{"contexts", "context", &config.contexts}}) {
      if (absl::Status s = ParseList(root, list, inner, origin, directory, *out); !s.ok()) return s;
    }
  } catch (const YAML::Exception& e) {
    return ShapeError(origin, absl::StrCat("unexpected value at line ", e.mark.line + 1, ": ", e.msg));
  }
  return config;
}

void MergeKubeconfig(MergedKubeconfig& into, const MergedKubeconfig& next) {
  if (into.current_context.empty()) into.current_context = next.current_context;
  for (const auto& [name, entry] : next.clusters) into.clusters.emplace(name, entry);
  for (const auto& [name, entry] : next.users) into.users.emplace(name, entry);
  for (const auto& [name, entry] : next.contexts) into.contexts.emplace(name, entry);
  into.files.insert(into.files.end(), next.files.begin(), next.files.end());
}

LoadOptions LoadOptionsFromEnvironment(const std::string& kubeconfig_flag,
                                       const std::string& context_flag) {
  LoadOptions options;
  options.explicit_paths = kubeconfig_flag;
  options.context = context_flag;
  if (const char* env = std::getenv("KUBECONFIG")) options.kubeconfig_env = env;
  if (const char* home = std::getenv("HOME")) options.home = home;
  if (!options.home.empty()) options.fallback_paths.push_back(options.home + "/.kube/k3s.yaml");
  options.fallback_paths.push_back("/etc/rancher/k3s/k3s.yaml");
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST")) options.in_cluster_host = host;
  if (const char* port = std::getenv("KUBERNETES_SERVICE_PORT")) options.in_cluster_port = port;
  return options;
}

namespace {

std::vector<std::string> SplitPathList(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(list, ':', absl::SkipEmpty())) {
    std::string path(part);
    if (std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);  // client-go dedupes
  }
  return out;
}

absl::StatusOr<RestConfig> InCluster(const LoadOptions& options) {
  const std::string dir = options.service_account_dir;
  auto token = ReadFile(dir + "/token", "service-account token");
  if (!token.ok()) return token.status();
  RestConfig config;
  std::string host = options.in_cluster_host;
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
  config.server = absl::StrCat("https://", host, ":", options.in_cluster_port);
  config.token_file = dir + "/token";
  config.bearer_token = std::string(absl::StripTrailingAsciiWhitespace(*token));
  if (auto ca = ReadFile(dir + "/ca.crt", "service-account CA"); ca.ok()) config.ca_pem = *ca;
  if (auto ns = ReadFile(dir + "/namespace", "service-account namespace"); ns.ok()) {
    config.namespace_name = std::string(absl::StripAsciiWhitespace(*ns));
  }
  config.source = "in-cluster";
  return config;
}

absl::StatusOr<std::string> DataOrFile(const NamedEntry& entry, const std::string& data_key,
                                       const std::string& file_key, const std::string& what) {
  auto data = entry.fields.find(data_key);
  if (data != entry.fields.end() && !data->second.empty()) {
    std::string decoded;
    if (!absl::Base64Unescape(data->second, &decoded)) {
      return absl::InvalidArgumentError(absl::StrCat("kubeconfig \"", entry.origin, "\": ", what,
                                                     " \"", entry.name, "\": ", data_key,
                                                     " is not valid base64"));
    }
    return decoded;
  }
  auto file = entry.fields.find(file_key);
  if (file != entry.fields.end() && !file->second.empty()) {
    auto content = ReadFile(file->second, absl::StrCat(what, " \"", entry.name, "\" ", file_key));
    if (!content.ok()) {
      return absl::Status(content.status().code(),
                          absl::StrCat("kubeconfig \"", entry.origin, "\": ", content.status().message()));
    }
    return *content;
  }
  return std::string();
}

std::string Field(const NamedEntry& entry, const std::string& key) {
  auto it = entry.fields.find(key);
  return it == entry.fields.end() ? "" : it->second;
}

}  // namespace

absl::StatusOr<RestConfig> ResolveContext(const MergedKubeconfig& config,
                                          const std::string& context) {
  const std::string sources = absl::StrJoin(config.files, ":");
  std::string name = context.empty() ? config.current_context : context;
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kubeconfig (", sources, ") sets no current-context; choose one with --context"));
  }
  auto ctx = config.contexts.find(name);
  if (ctx == config.contexts.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("context \"", name, "\" does not exist in kubeconfig (", sources, ")"));
  }
  const std::string cluster_name = Field(ctx->second, "cluster");
  const std::string user_name = Field(ctx->second, "user");
  auto cluster = config.clusters.find(cluster_name);
  if (cluster == config.clusters.end()) {
    return absl::InvalidArgumentError(absl::StrCat("context \"", name, "\": cluster \"", cluster_name,
                                                   "\" does not exist in kubeconfig (", sources, ")"));
  }
  RestConfig rest;
  rest.context_name = name;
  rest.user_name = user_name;
  rest.source = sources;
  rest.namespace_name = Field(ctx->second, "namespace");
  const NamedEntry& c = cluster->second;
  rest.server = Field(c, "server");
  while (!rest.server.empty() && rest.server.back() == '/') rest.server.pop_back();
  if (rest.server.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig \"", c.origin, "\": cluster \"",
                                                   c.name, "\" has no server"));
  }
  rest.insecure_skip_tls_verify = IsTrue(Field(c, "insecure-skip-tls-verify"));
  rest.tls_server_name = Field(c, "tls-server-name");
  auto ca = DataOrFile(c, "certificate-authority-data", "certificate-authority", "cluster");
  if (!ca.ok()) return ca.status();
  rest.ca_pem = *ca;
  if (rest.insecure_skip_tls_verify && !rest.ca_pem.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kubeconfig \"", c.origin, "\": cluster \"", c.name,
        "\": specifying a root certificates file with the insecure flag is not allowed"));
  }
  if (!user_name.empty()) {
    auto user = config.users.find(user_name);
    if (user == config.users.end()) {
      return absl::InvalidArgumentError(absl::StrCat("context \"", name, "\": user \"", user_name,
                                                     "\" does not exist in kubeconfig (", sources, ")"));
    }
    const NamedEntry& u = user->second;
    if (u.fields.count("auth-provider")) {
      return absl::UnimplementedError(absl::StrCat(
          "kubeconfig \"", u.origin, "\": user \"", u.name, "\": auth-provider \"",
          u.fields.at("auth-provider"), "\" is not supported; use an exec credential plugin"));
    }
    auto cert = DataOrFile(u, "client-certificate-data", "client-certificate", "user");
    if (!cert.ok()) return cert.status();
    auto key = DataOrFile(u, "client-key-data", "client-key", "user");
    if (!key.ok()) return key.status();
    rest.client_cert_pem = *cert;
    rest.client_key_pem = *key;
    if (rest.client_cert_pem.empty() != rest.client_key_pem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kubeconfig \"", u.origin, "\": user \"", u.name,
          "\" has a client certificate without a key or a key without a certificate"));
    }
    rest.bearer_token = Field(u, "token");
    rest.token_file = Field(u, "tokenFile");
    if (rest.bearer_token.empty() && !rest.token_file.empty()) {
      auto token = ReadFile(rest.token_file, absl::StrCat("user \"", u.name, "\" tokenFile"));
      if (!token.ok()) return token.status();
      rest.bearer_token = std::string(absl::StripTrailingAsciiWhitespace(*token));
    }
    rest.username = Field(u, "username");
    rest.password = Field(u, "password");
    if (u.exec) {
      const std::string& api = u.exec->api_version;
      if (api != "client.authentication.k8s.io/v1" &&
          api != "client.authentication.k8s.io/v1beta1") {
        return absl::InvalidArgumentError(absl::StrCat(
            "kubeconfig \"", u.origin, "\": user \"", u.name, "\": exec plugin apiVersion \"", api,
            "\" is not supported (use client.authentication.k8s.io/v1)"));
      }
      if (u.exec->command.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("kubeconfig \"", u.origin, "\": user \"",
                                                       u.name, "\": exec plugin has no command"));
      }
      rest.exec = u.exec;
    }
  }
  return rest;
}

absl::StatusOr<RestConfig> LoadRestConfig(const LoadOptions& options) {
  std::vector<std::string> paths;
  bool must_exist = false;
  if (!options.explicit_paths.empty()) {
    paths = SplitPathList(options.explicit_paths);
    must_exist = true;
  } else if (options.kubeconfig_env.has_value() && !options.kubeconfig_env->empty()) {
    paths = SplitPathList(*options.kubeconfig_env);
  } else if (!options.home.empty()) {
    paths.push_back(options.home + "/.kube/config");
  }
  MergedKubeconfig merged;
  auto load = [&](const std::string& path, bool required, bool skip_unreadable) -> absl::Status {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      if (required) return absl::NotFoundError(absl::StrCat("kubeconfig \"", path, "\": no such file"));
      return absl::OkStatus();
    }
    auto text = ReadFile(path, "kubeconfig");
    if (!text.ok()) return skip_unreadable ? absl::OkStatus() : text.status();
    auto parsed = ParseKubeconfig(*text, path, fs::absolute(path).parent_path().string());
    if (!parsed.ok()) return parsed.status();
    MergeKubeconfig(merged, *parsed);
    return absl::OkStatus();
  };
  for (const std::string& path : paths) {
    if (absl::Status s = load(path, must_exist, false); !s.ok()) return s;
  }
  for (const std::string& path : options.fallback_paths) {
    if (std::find(paths.begin(), paths.end(), path) != paths.end()) continue;
    if (absl::Status s = load(path, false, true); !s.ok()) return s;
  }
  const bool empty = merged.contexts.empty() && merged.clusters.empty() && merged.users.empty() &&
                     merged.current_context.empty();
  if (empty && options.context.empty() && !options.in_cluster_host.empty() &&
      !options.in_cluster_port.empty()) {
    return InCluster(options);
  }
  if (empty) {
    std::vector<std::string> looked(paths);
    looked.insert(looked.end(), options.fallback_paths.begin(), options.fallback_paths.end());
    return absl::NotFoundError(absl::StrCat(
        "no Kubernetes configuration found (looked in ", absl::StrJoin(looked, ", "),
        " and for an in-cluster service account); use --kubeconfig or set KUBECONFIG"));
  }
  return ResolveContext(merged, options.context);
}

}  // namespace kim::kube
