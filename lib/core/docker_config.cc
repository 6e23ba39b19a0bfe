// Finding, parsing and querying the Docker CLI's config.json with the Docker CLI's own rules.
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <cpprest/json.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "kim/credentials.h"
#include "lib/core/json_objects.h"

namespace kim {
namespace {

// Debian's Abseil has its own string_view type; this bridges from the standard one.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr std::string_view kHubAuthKey = "https://index.docker.io/v1/";

bool IsDockerHubHost(std::string_view host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

absl::Status FieldError(std::string_view origin, std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(origin), ": ", Sv(field), ": ", Sv(what)));
}

// Reads an optional string member; JSON null counts as absent, as with Go's decoder.
absl::Status ReadString(const web::json::value& object, const char* name, std::string_view origin,
                        std::string_view where, std::string* out) {
  if (!object.has_field(name)) return absl::OkStatus();
  const web::json::value& value = object.at(name);
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_string()) {
    return FieldError(origin, absl::StrCat(Sv(where), name), "expected a string");
  }
  *out = value.as_string();
  return absl::OkStatus();
}

}  // namespace

std::string DockerConfigDir() {
  const char* env = std::getenv("DOCKER_CONFIG");
  if (env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    const struct passwd* pw = ::getpwuid(::getuid());
    home = pw != nullptr ? pw->pw_dir : "";
  }
  return absl::StrCat(home, "/.docker");
}

std::string RegistryAuthKey(std::string_view registry_host) {
  if (IsDockerHubHost(registry_host)) return std::string(kHubAuthKey);
  return std::string(registry_host);
}

std::string ConvertToHostname(std::string_view url) {
  if (absl::StartsWith(Sv(url), "http://")) {
    url.remove_prefix(7);
  } else if (absl::StartsWith(Sv(url), "https://")) {
    url.remove_prefix(8);
  }
  return std::string(url.substr(0, url.find('/')));
}

std::string EncodeAuth(std::string_view username, std::string_view password) {
  return absl::Base64Escape(absl::StrCat(Sv(username), ":", Sv(password)));
}

absl::StatusOr<std::pair<std::string, std::string>> DecodeAuth(std::string_view auth) {
  std::string decoded;
  if (!absl::Base64Unescape(Sv(auth), &decoded)) {
    return absl::InvalidArgumentError("invalid auth configuration: \"auth\" is not valid base64");
  }
  size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        "invalid auth configuration: \"auth\" is not base64 of \"username:password\"");
  }
  std::string password = decoded.substr(colon + 1);
  // Docker trims NUL padding that some tools leave after the password.
  size_t first = password.find_first_not_of('\0');
  size_t last = password.find_last_not_of('\0');
  password = first == std::string::npos ? "" : password.substr(first, last - first + 1);
  return std::make_pair(decoded.substr(0, colon), std::move(password));
}

absl::StatusOr<DockerConfig> DockerConfig::Load() {
  return LoadFrom(absl::StrCat(DockerConfigDir(), "/config.json"));
}

absl::StatusOr<DockerConfig> DockerConfig::LoadFrom(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      DockerConfig empty;
      empty.path_ = path;
      return empty;
    }
    return absl::FailedPreconditionError(
        absl::StrCat("reading ", path, ": ", std::strerror(errno)));
  }
  std::string text;
  char buffer[8192];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      int read_errno = errno;
      ::close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat("reading ", path, ": ", std::strerror(read_errno)));
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return Parse(text, path);
}

absl::StatusOr<DockerConfig> DockerConfig::Parse(std::string_view json_text,
                                                 std::string_view origin) {
  DockerConfig config;
  config.path_ = std::string(origin);
  if (absl::StripAsciiWhitespace(Sv(json_text)).empty()) return config;

  std::error_code error;
  web::json::value parsed = web::json::value::parse(std::string(json_text), error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(origin), ": invalid JSON: ", error.message()));
  }
  const web::json::value root = WithoutDuplicateKeys(parsed);  // as the Docker CLI reads it
  if (!root.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(origin), ": expected a JSON object"));
  }
  config.document_ = std::string(json_text);

  if (root.has_field("auths") && !root.at("auths").is_null()) {
    const web::json::value& auths = root.at("auths");
    if (!auths.is_object()) return FieldError(origin, "auths", "expected an object");
    for (const auto& [key, entry] : auths.as_object()) {
      const std::string where = absl::StrCat("auths[\"", key, "\"].");
      if (!entry.is_object()) {
        return FieldError(origin, absl::StrCat("auths[\"", key, "\"]"), "expected an object");
      }
      RegistryCredentials credentials;
      std::string auth;
      for (auto [name, out] : {std::pair{"auth", &auth}, {"username", &credentials.username},
                               {"password", &credentials.password},
                               {"identitytoken", &credentials.identity_token},
                               {"registrytoken", &credentials.registry_token}}) {
        if (absl::Status s = ReadString(entry, name, origin, where, out); !s.ok()) return s;
      }
      if (!auth.empty()) {
        auto decoded = DecodeAuth(auth);
        if (!decoded.ok()) {
          return FieldError(origin, absl::StrCat(where, "auth"), std::string(decoded.status().message()));
        }
        credentials.username = std::move(decoded->first);
        credentials.password = std::move(decoded->second);
      }
      config.auths_[key] = std::move(credentials);
    }
  }

  if (root.has_field("credHelpers") && !root.at("credHelpers").is_null()) {
    const web::json::value& helpers = root.at("credHelpers");
    if (!helpers.is_object()) return FieldError(origin, "credHelpers", "expected an object");
    for (const auto& [key, helper] : helpers.as_object()) {
      if (!helper.is_string()) {
        return FieldError(origin, absl::StrCat("credHelpers[\"", key, "\"]"),
                          "expected a string");
      }
      config.cred_helpers_[key] = helper.as_string();
    }
  }
  if (absl::Status s = ReadString(root, "credsStore", origin, "", &config.creds_store_);
      !s.ok()) {
    return s;
  }
  return config;
}

std::string DockerConfig::CredentialHelperFor(std::string_view registry_host) const {
  if (auto it = cred_helpers_.find(RegistryAuthKey(registry_host)); it != cred_helpers_.end()) {
    return it->second;
  }
  if (auto it = cred_helpers_.find(registry_host); it != cred_helpers_.end()) return it->second;
  return creds_store_;
}

absl::StatusOr<RegistryCredentials> DockerConfig::CredentialsFor(
    std::string_view registry_host) const {
  const std::string key = RegistryAuthKey(registry_host);

  // The file's entry: the exact key first, then legacy spellings ("https://host/v1/").
  RegistryCredentials from_file;
  from_file.server_address = key;
  if (auto it = auths_.find(key); it != auths_.end()) {
    from_file = it->second;
    from_file.server_address = key;
  } else {
    for (const auto& [entry_key, credentials] : auths_) {
      std::string entry_host = ConvertToHostname(entry_key);
      if (entry_host == key || (IsDockerHubHost(registry_host) && IsDockerHubHost(entry_host))) {
        from_file = credentials;
        from_file.server_address = entry_key;
        break;
      }
    }
  }

  const std::string helper = CredentialHelperFor(registry_host);
  if (helper.empty()) return from_file;

  absl::StatusOr<RegistryCredentials> from_helper =
      GetFromCredentialHelper(helper, key, helper_timeout_);
  if (!from_helper.ok()) return from_helper.status();
  // Like Docker's native store: the helper supplies the secrets, the file anything else.
  from_helper->registry_token = from_file.registry_token;
  return from_helper;
}

}  // namespace kim
