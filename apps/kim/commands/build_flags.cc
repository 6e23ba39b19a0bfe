// Parsers for `kim build`'s flag values.
#include "apps/kim/commands/build_flags.h"

#include <arpa/inet.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "kim/platform.h"
#include "kim/reference.h"

namespace kim::cli {
namespace {

// Splits "k1=v1,k2=v2" into pairs; a field without '=' gets an empty value and `bare` set.
std::vector<std::pair<std::string, std::string>> SplitFields(const std::string& value) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (absl::string_view field : absl::StrSplit(value, ',')) {
    const size_t eq = field.find('=');
    if (eq == absl::string_view::npos) {
      fields.emplace_back(std::string(field), "");
    } else {
      fields.emplace_back(std::string(field.substr(0, eq)), std::string(field.substr(eq + 1)));
    }
  }
  return fields;
}

bool IsIpAddress(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name, std::string* value) {
    const char* found = std::getenv(name.c_str());
    if (found == nullptr) return false;
    *value = found;
    return true;
  };
}

absl::StatusOr<std::map<std::string, std::string>> ParseBuildArgs(
    const std::vector<std::string>& values, const EnvLookup& env) {
  std::map<std::string, std::string> args;
  for (const std::string& value : values) {
    const size_t eq = value.find('=');
    const std::string key = value.substr(0, eq);
    if (key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid --build-arg \"", value, "\": expected KEY=VALUE or KEY"));
    }
    if (eq != std::string::npos) {
      args[key] = value.substr(eq + 1);
    } else if (std::string from_env; env(key, &from_env)) {
      args[key] = from_env;
    }
  }
  return args;
}

absl::StatusOr<std::map<std::string, std::string>> ParseLabels(
    const std::vector<std::string>& values) {
  std::map<std::string, std::string> labels;
  for (const std::string& value : values) {
    const size_t eq = value.find('=');
    const std::string key = value.substr(0, eq);
    if (key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid --label \"", value, "\": expected KEY=VALUE"));
    }
    labels[key] = eq == std::string::npos ? "" : value.substr(eq + 1);
  }
  return labels;
}

absl::StatusOr<BuildSecret> ParseSecret(const std::string& value) {
  BuildSecret secret;
  std::string type;
  for (const auto& [key, field] : SplitFields(value)) {
    if (key == "id") {
      secret.id = field;
    } else if (key == "src" || key == "source") {
      secret.file = field;
    } else if (key == "env") {
      secret.env = field;
    } else if (key == "type") {
      if (field != "file" && field != "env") {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid --secret \"", value, "\": type must be file or env, not \"", field, "\""));
      }
      type = field;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid --secret \"", value, "\": unexpected key \"", key,
                       "\" (format id=ID,src=PATH or id=ID,env=VAR)"));
    }
  }
  if (type == "env" && secret.env.empty()) std::swap(secret.env, secret.file);
  if (secret.id.empty()) {
    if (secret.file.empty() && secret.env.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid --secret \"", value, "\": id is required"));
    }
    secret.id = !secret.env.empty() ? secret.env : secret.file.substr(secret.file.rfind('/') + 1);
  }
  if (secret.file.empty() && secret.env.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --secret \"", value, "\": give src=PATH or env=VAR for secret \"", secret.id,
        "\""));
  }
  if (!secret.file.empty() && !secret.env.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --secret \"", value, "\": src and env are mutually exclusive"));
  }
  return secret;
}

absl::StatusOr<BuildSsh> ParseSsh(const std::string& value) {
  BuildSsh ssh;
  const size_t eq = value.find('=');
  ssh.id = value.substr(0, eq);
  if (ssh.id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --ssh \"", value, "\": format is default|ID[=SOCKET|KEY[,KEY]]"));
  }
  if (eq != std::string::npos) {
    for (absl::string_view path : absl::StrSplit(value.substr(eq + 1), ',', absl::SkipEmpty())) {
      ssh.paths.emplace_back(std::string(path));
    }
    if (ssh.paths.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid --ssh \"", value, "\": no socket or key path after '='"));
    }
  }
  return ssh;
}

absl::StatusOr<BuildOutput> ParseOutput(const std::string& value) {
  BuildOutput output;
  if (value.empty()) return absl::InvalidArgumentError("invalid --output \"\": empty value");
  if (value == "-") {
    output.type = "tar";
    output.attrs["dest"] = "-";
    return output;
  }
  if (value.find('=') == std::string::npos) {
    output.type = "local";
    output.attrs["dest"] = value;
    return output;
  }
  for (const auto& [key, field] : SplitFields(value)) {
    if (key == "type") {
      output.type = field;
    } else {
      output.attrs[key] = field;
    }
  }
  static const std::vector<std::string> kTypes = {"image", "registry", "local", "tar", "oci",
                                                   "docker"};
  if (output.type.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid --output \"", value,
                                                   "\": type is required, e.g. type=local,dest=DIR"));
  }
  if (std::find(kTypes.begin(), kTypes.end(), output.type) == kTypes.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --output \"", value, "\": unknown type \"", output.type,
                     "\" (one of ", absl::StrJoin(kTypes, ", "), ")"));
  }
  const bool needs_dest = output.type == "local" || output.type == "tar" ||
                          output.type == "oci" || output.type == "docker";
  if (needs_dest && !output.attrs.contains("dest")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --output \"", value, "\": type=", output.type, " needs dest=PATH"));
  }
  return output;
}

absl::StatusOr<std::vector<std::string>> ParseTags(const std::vector<std::string>& values) {
  std::vector<std::string> tags;
  for (const std::string& value : values) {
    absl::StatusOr<ImageReference> ref = ImageReference::ParseNormalized(value);
    if (!ref.ok()) return ref.status();
    if (ref->HasDigest()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid tag \"", value, "\": a tag cannot carry a digest"));
    }
    tags.push_back(ref->WithDefaultTag().String());
  }
  return tags;
}

absl::StatusOr<std::vector<std::string>> ParsePlatforms(const std::vector<std::string>& values) {
  std::vector<std::string> platforms;
  for (const std::string& value : values) {
    for (absl::string_view part : absl::StrSplit(value, ',')) {
      absl::StatusOr<Platform> platform = ParsePlatform(std::string(part));
      if (!platform.ok()) return platform.status();
      platforms.push_back(platform->String());
    }
  }
  return platforms;
}

absl::Status ValidateProgressMode(const std::string& mode) {
  static const std::vector<std::string> kModes = {"auto", "plain", "tty", "quiet", "rawjson"};
  if (std::find(kModes.begin(), kModes.end(), mode) != kModes.end()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("invalid --progress \"", mode, "\": one of ",
                                                 absl::StrJoin(kModes, ", ")));
}

absl::StatusOr<std::string> ParseAddHost(const std::string& value) {
  size_t sep = value.find('=');
  if (sep == std::string::npos) sep = value.find(':');
  if (sep == std::string::npos || sep == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --add-host \"", value, "\": expected HOST:IP"));
  }
  const std::string host = value.substr(0, sep);
  std::string ip = value.substr(sep + 1);
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (!IsIpAddress(ip)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --add-host \"", value, "\": \"", ip, "\" is not an IP address"));
  }
  return absl::StrCat(host, "=", ip);
}

}  // namespace kim::cli
