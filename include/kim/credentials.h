// Registry credentials from the Docker CLI's config.json, found and interpreted exactly as
// `docker` does, so that `docker login` is all a kim user needs. Also writes them back for
// `kim login` / `kim logout`.
#ifndef KIM_CREDENTIALS_H_
#define KIM_CREDENTIALS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kim {

// What a registry needs to authenticate us. All fields empty means anonymous access.
struct RegistryCredentials {
  // The user name for basic auth or the token server; empty with an identity token.
  std::string username;
  // The password (or personal access token) for `username`.
  std::string password;
  // An OAuth2 refresh token for the registry's token server (Docker's "identitytoken"); when set
  // it is used instead of username/password.
  std::string identity_token;
  // A bearer token sent to the registry as is (Docker's "registrytoken").
  std::string registry_token;
  // The config.json key or credential-helper URL the credentials were found under
  // ("https://index.docker.io/v1/", "registry:5000"). Informational; not part of empty().
  std::string server_address;

  // True when there is nothing to authenticate with, i.e. anonymous access.
  bool empty() const {
    return username.empty() && password.empty() && identity_token.empty() &&
           registry_token.empty();
  }
};

// The directory holding the Docker CLI's configuration: $DOCKER_CONFIG when set and non-empty,
// else $HOME/.docker (the password database's home directory when $HOME is unset).
std::string DockerConfigDir();

// The key config.json and credential helpers use for `registry_host`: Docker Hub's hosts
// ("docker.io", "index.docker.io", "registry-1.docker.io") map to "https://index.docker.io/v1/",
// every other host to itself ("registry:5000").
std::string RegistryAuthKey(std::string_view registry_host);

// Reduces a config.json key to a host, like Docker's ConvertToHostname: strips one leading
// "http://" or "https://" and everything from the first '/' ("https://registry:5000/v1/" ->
// "registry:5000").
std::string ConvertToHostname(std::string_view url);

// The "auth" value of a config.json entry: base64 of "username:password".
std::string EncodeAuth(std::string_view username, std::string_view password);

// The reverse of EncodeAuth: splits at the first ':' and drops NUL padding from the password, as
// Docker does. Returns InvalidArgument when `auth` is not base64, has no ':' or an empty user name.
absl::StatusOr<std::pair<std::string, std::string>> DecodeAuth(std::string_view auth);

// Asks `docker-credential-<helper> get` for the credentials of `server_url` (the helper reads the
// URL on stdin and answers {"ServerURL","Username","Secret"}; a Username of "<token>" means Secret
// is an identity token). The helper's "credentials not found" answer yields empty (anonymous)
// credentials. Returns NotFound when the helper program is not installed, DeadlineExceeded when it
// runs longer than `timeout`, and Unavailable / InvalidArgument, naming the helper, when it fails
// or replies with something other than JSON.
absl::StatusOr<RegistryCredentials> GetFromCredentialHelper(std::string_view helper,
                                                            std::string_view server_url,
                                                            absl::Duration timeout);

// Hands `credentials` to `docker-credential-<helper> store` under `server_url` (an identity token,
// when present, is stored as Username "<token>"). Errors as for GetFromCredentialHelper.
absl::Status StoreInCredentialHelper(std::string_view helper, std::string_view server_url,
                                     const RegistryCredentials& credentials,
                                     absl::Duration timeout);

// Asks `docker-credential-<helper> erase` to forget `server_url`; forgetting credentials the
// helper does not have is not an error. Errors as for GetFromCredentialHelper.
absl::Status EraseFromCredentialHelper(std::string_view helper, std::string_view server_url,
                                       absl::Duration timeout);

// A Docker CLI config.json: the "auths" entries, "credsStore" and "credHelpers". Keys it does not
// know are kept untouched when the file is saved again. A value type; not thread-safe for
// concurrent modification, but const methods may be called from several threads.
class DockerConfig {
 public:
  // How long a credential helper may run before it is killed, unless changed with
  // set_helper_timeout().
  static constexpr absl::Duration kDefaultHelperTimeout = absl::Seconds(60);

  // An empty configuration: no credentials anywhere.
  DockerConfig() = default;

  // Loads DockerConfigDir() + "/config.json". A missing file is an empty configuration (which
  // Save(path()) would create), not an error.
  static absl::StatusOr<DockerConfig> Load();

  // Loads the config.json at `path`. A missing file is an empty configuration; an unreadable
  // file or bad JSON is an error naming the file.
  static absl::StatusOr<DockerConfig> LoadFrom(const std::string& path);

  // Parses config.json text; `origin` names it in error messages and becomes path(). Empty text is
  // an empty configuration. Returns InvalidArgument naming `origin` for bad JSON, fields of the
  // wrong type, or an "auth" value that DecodeAuth rejects (as Docker refuses such a file).
  static absl::StatusOr<DockerConfig> Parse(std::string_view json_text, std::string_view origin);

  // The credentials to use for `registry_host` ("docker.io", "ghcr.io", "registry:5000"), with
  // Docker's precedence: credHelpers[RegistryAuthKey(host)] (then credHelpers[host]), else
  // credsStore, each run as a helper; else the "auths" entry under RegistryAuthKey(host) or,
  // failing that, the first key whose ConvertToHostname is that host (for Docker Hub, any Hub
  // host). Anonymous access is an OK result with empty() credentials. Helper errors are returned
  // as GetFromCredentialHelper describes them (Docker would silently ignore them).
  absl::StatusOr<RegistryCredentials> CredentialsFor(std::string_view registry_host) const;

  // The credential helper name ("osxkeychain", "ecr-login") that CredentialsFor would run for
  // `registry_host`, or "" when credentials come from "auths".
  std::string CredentialHelperFor(std::string_view registry_host) const;

  // Remembers `credentials` for `registry_host`: hands them to the host's credential helper when
  // one is configured (leaving an empty "auths" entry, as Docker does), else keeps them for the
  // "auths" entry. Call Save() to write the file. Returns InvalidArgument when the credentials are
  // empty or the user name contains ':', or a helper error.
  absl::Status Store(std::string_view registry_host, const RegistryCredentials& credentials);

  // Forgets `registry_host`'s credentials: in its credential helper if any, and every "auths"
  // entry for that host (its key and legacy spellings like "https://host/v1/"). Forgetting
  // credentials that are not there is not an error.
  absl::Status Erase(std::string_view registry_host);

  // Writes the configuration to `path` atomically (temporary file + rename) with mode 0600,
  // creating the directory (mode 0700) if needed and following a symlinked config file, as Docker
  // does. "auths" entries are written with "auth" = EncodeAuth(user, password); other keys are
  // kept as they were loaded.
  absl::Status Save(const std::string& path) const;

  // The JSON that Save() writes, tab-indented like Docker's.
  std::string Serialize() const;

  // The file this configuration came from (or would be saved to by `kim login`).
  const std::string& path() const { return path_; }

  // The time a credential helper may run before it is killed and CredentialsFor fails.
  void set_helper_timeout(absl::Duration timeout) { helper_timeout_ = timeout; }

 private:
  std::string path_;
  // The original JSON text, so Serialize() can keep the keys this class does not interpret.
  std::string document_;
  // "auths", by key, with "auth" decoded into username/password (server_address unused).
  std::map<std::string, RegistryCredentials, std::less<>> auths_;
  std::map<std::string, std::string, std::less<>> cred_helpers_;
  std::string creds_store_;
  absl::Duration helper_timeout_ = kDefaultHelperTimeout;
};

// The credentials for one registry from two lookups: `user`'s (the user's Docker config and
// credential helpers) and `cluster`'s (stored in the cluster by `kim system login`). The
// user's win when they hold any; else the cluster's when they hold any; else `user` as it is
// (anonymous, or the error of the user's lookup).
absl::StatusOr<RegistryCredentials> MergeCredentials(absl::StatusOr<RegistryCredentials> user,
                                                     absl::StatusOr<RegistryCredentials> cluster);

// Registry credentials for builds and image transfers: the user's Docker config merged, per
// registry (MergeCredentials), with the credentials stored in the cluster. Immutable, so safe
// to share between threads.
class CredentialStore {
 public:
  // The user's config is loaded (DockerConfig::Load) at every lookup; `cluster` holds the
  // cluster's entries (none by default).
  explicit CredentialStore(DockerConfig cluster = DockerConfig());

  // A fixed user config (or the error loading it) instead of loading it at each lookup.
  CredentialStore(absl::StatusOr<DockerConfig> user, DockerConfig cluster);

  // The credentials for `registry_host` (as DockerConfig::CredentialsFor), merged.
  absl::StatusOr<RegistryCredentials> CredentialsFor(std::string_view registry_host) const;

  // The cluster's entries alone.
  const DockerConfig& cluster() const { return cluster_; }

 private:
  std::optional<absl::StatusOr<DockerConfig>> user_;  // nullopt: load at each lookup
  DockerConfig cluster_;
};

}  // namespace kim

#endif  // KIM_CREDENTIALS_H_
