// Changing and writing config.json for `kim login` / `kim logout`, keeping everything in the file
// that kim does not manage.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <cpprest/json.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "kim/credentials.h"
#include "lib/core/json_objects.h"

namespace kim {
namespace {

// Debian's Abseil has its own string_view type; this bridges from the standard one.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Appends `value` as JSON indented with tabs, the layout of Go's json.MarshalIndent(v, "", "\t").
void AppendIndented(const web::json::value& value, int depth, std::string* out) {
  if (value.is_object() && value.size() > 0) {
    out->append("{\n");
    bool first = true;
    for (const auto& [key, member] : value.as_object()) {
      if (!first) out->append(",\n");
      first = false;
      out->append(static_cast<size_t>(depth + 1), '\t');
      out->append(web::json::value::string(key).serialize());
      out->append(": ");
      AppendIndented(member, depth + 1, out);
    }
    out->append("\n").append(static_cast<size_t>(depth), '\t').append("}");
  } else if (value.is_array() && value.size() > 0) {
    out->append("[\n");
    const web::json::array& elements = value.as_array();
    for (size_t i = 0; i < elements.size(); ++i) {
      if (i > 0) out->append(",\n");
      out->append(static_cast<size_t>(depth + 1), '\t');
      AppendIndented(elements.at(i), depth + 1, out);
    }
    out->append("\n").append(static_cast<size_t>(depth), '\t').append("]");
  } else if (value.is_double() && !std::isfinite(value.as_double())) {
    // A number beyond a double's range (1e999) reads as infinity, which JSON cannot spell:
    // the nearest number JSON can, so the file stays valid JSON.
    out->append(value.as_double() > 0 ? "1.7976931348623157e308" : "-1.7976931348623157e308");
  } else {
    out->append(value.serialize());
  }
}

absl::Status ErrnoError(std::string_view what, std::string_view path) {
  return absl::FailedPreconditionError(absl::StrCat(Sv(what), " ", Sv(path), ": ", std::strerror(errno)));
}

// mkdir -p with mode 0700 for the directories it creates.
absl::Status MakeDirectories(const std::string& dir) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string prefix = dir.substr(0, slash);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoError("creating", prefix);
    }
    if (slash == std::string::npos) return absl::OkStatus();
  }
}

}  // namespace

std::string DockerConfig::Serialize() const {
  web::json::value root = web::json::value::object();
  // Validated by Parse(); read as Parse() reads it, so each key is written once.
  if (!document_.empty()) root = WithoutDuplicateKeys(web::json::value::parse(document_));
  web::json::value old_auths = web::json::value::object();
  if (root.has_field("auths") && root.at("auths").is_object()) old_auths = root.at("auths");

  web::json::value auths = web::json::value::object();
  for (const auto& [key, credentials] : auths_) {
    // Start from the loaded entry so fields kim does not know (like "email") survive.
    web::json::value entry = web::json::value::object();
    if (old_auths.has_field(key) && old_auths.at(key).is_object()) entry = old_auths.at(key);
    for (const char* field :
         {"auth", "username", "password", "serveraddress", "identitytoken", "registrytoken"}) {
      if (entry.has_field(field)) entry.erase(field);
    }
    // DecodeAuth trims NUL padding around the password, as Docker does.
    const std::string& password = credentials.password;
    const bool padded = !password.empty() && (password.front() == '\0' || password.back() == '\0');
    if (!credentials.username.empty() && credentials.username.find(':') == std::string::npos &&
        !padded) {
      entry["auth"] =
          web::json::value::string(EncodeAuth(credentials.username, credentials.password));
    } else {
      // "auth" needs a user name without ':' (base64 of "user:password" splits at the first
      // one; Docker refuses ":password") and a password without NUL padding: such a loaded
      // entry keeps its fields as they were.
      if (!credentials.username.empty()) {
        entry["username"] = web::json::value::string(credentials.username);
      }
      if (!credentials.password.empty()) {
        entry["password"] = web::json::value::string(credentials.password);
      }
    }
    if (!credentials.identity_token.empty()) {
      entry["identitytoken"] = web::json::value::string(credentials.identity_token);
    }
    if (!credentials.registry_token.empty()) {
      entry["registrytoken"] = web::json::value::string(credentials.registry_token);
    }
    auths[key] = entry;
  }
  root["auths"] = auths;

  std::string out;
  AppendIndented(root, 0, &out);
  out.push_back('\n');
  return out;
}

absl::Status DockerConfig::Store(std::string_view registry_host,
                                 const RegistryCredentials& credentials) {
  if (credentials.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no credentials to store for ", Sv(registry_host)));
  }
  if (credentials.username.find(':') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("user name for ", Sv(registry_host), " must not contain ':'"));
  }
  const std::string key = RegistryAuthKey(registry_host);
  const std::string helper = CredentialHelperFor(registry_host);
  if (!helper.empty()) {
    if (absl::Status s = StoreInCredentialHelper(helper, key, credentials, helper_timeout_);
        !s.ok()) {
      return s;
    }
    // Docker keeps an empty entry so the file still lists the registry as logged in.
    auths_[key] = RegistryCredentials{};
    return absl::OkStatus();
  }
  RegistryCredentials entry = credentials;
  entry.server_address.clear();
  auths_[key] = std::move(entry);
  return absl::OkStatus();
}

absl::Status DockerConfig::Erase(std::string_view registry_host) {
  const std::string key = RegistryAuthKey(registry_host);
  const std::string helper = CredentialHelperFor(registry_host);
  if (!helper.empty()) {
    if (absl::Status s = EraseFromCredentialHelper(helper, key, helper_timeout_); !s.ok()) {
      return s;
    }
  }
  const std::string host = ConvertToHostname(key);
  for (auto it = auths_.begin(); it != auths_.end();) {
    if (it->first == key || ConvertToHostname(it->first) == host) {
      it = auths_.erase(it);
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

absl::Status DockerConfig::Save(const std::string& path) const {
  if (path.empty()) return absl::InvalidArgumentError("saving Docker config: empty path");
  // Write through a symlinked config file (dotfile managers), as Docker does.
  std::string target = path;
  if (char* resolved = ::realpath(path.c_str(), nullptr); resolved != nullptr) {
    target = resolved;
    std::free(resolved);
  }
  const size_t slash = target.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : target.substr(0, slash);
  if (slash != std::string::npos && slash > 0) {
    if (absl::Status s = MakeDirectories(dir); !s.ok()) return s;
  }

  const std::string text = Serialize();
  std::string temp_path = absl::StrCat(target, ".tmp-XXXXXX");
  std::vector<char> temp_name(temp_path.begin(), temp_path.end());
  temp_name.push_back('\0');
  int fd = ::mkstemp(temp_name.data());
  if (fd < 0) return ErrnoError("creating a temporary file for", target);
  temp_path = temp_name.data();

  auto fail = [&](std::string_view what) {
    absl::Status status = ErrnoError(what, temp_path);
    if (fd >= 0) ::close(fd);
    ::unlink(temp_path.c_str());
    return status;
  };
  if (::fchmod(fd, 0600) != 0) return fail("setting the mode of");
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("writing");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("syncing");
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return fail("closing");
  if (::rename(temp_path.c_str(), target.c_str()) != 0) return fail("renaming");
  return absl::OkStatus();
}

}  // namespace kim
