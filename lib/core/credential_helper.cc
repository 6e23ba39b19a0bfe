// The docker-credential-helpers protocol: `docker-credential-<name> get|store|erase`, with the
// request on stdin and the answer (or error text) on stdout.
#include <string>

#include <cpprest/json.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "kim/credentials.h"
#include "lib/core/subprocess.h"

namespace kim {
namespace {

// Debian's Abseil has its own string_view type; this bridges from the standard one.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The Username a helper uses to say that Secret is an identity token, not a password.
constexpr std::string_view kTokenUsername = "<token>";

// What every helper prints (then exits non-zero) when it has nothing for a server.
constexpr std::string_view kNotFoundMessage = "credentials not found in native keychain";

std::string ProgramName(std::string_view helper) {
  return absl::StrCat("docker-credential-", Sv(helper));
}

// Runs one helper action; a non-zero exit becomes Unavailable carrying what the helper said.
// `not_found` is set instead when the helper answered "credentials not found".
absl::StatusOr<std::string> RunHelper(std::string_view helper, std::string_view action,
                                      std::string_view input, std::string_view server_url,
                                      absl::Duration timeout, bool* not_found) {
  const std::string program = ProgramName(helper);
  absl::StatusOr<ProcessResult> result =
      RunProcess({program, std::string(action)}, input, timeout);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    absl::string_view said = absl::StripAsciiWhitespace(result->out);
    if (said.empty()) said = absl::StripAsciiWhitespace(result->err);
    if (not_found != nullptr && said == Sv(kNotFoundMessage)) {
      *not_found = true;
      return std::string();
    }
    return absl::UnavailableError(absl::StrCat(program, " ", Sv(action), " \"", Sv(server_url),
                                               "\": exit status ", result->exit_code,
                                               said.empty() ? "" : ": ", said));
  }
  return std::move(result->out);
}

std::string JsonStringField(const web::json::value& object, const char* name) {
  if (!object.has_field(name)) return "";
  const web::json::value& field = object.at(name);
  return field.is_string() ? field.as_string() : "";
}

}  // namespace

absl::StatusOr<RegistryCredentials> GetFromCredentialHelper(std::string_view helper,
                                                            std::string_view server_url,
                                                            absl::Duration timeout) {
  bool not_found = false;
  absl::StatusOr<std::string> out = RunHelper(helper, "get", server_url, server_url, timeout,
                                              &not_found);
  if (!out.ok()) return out.status();
  RegistryCredentials credentials;
  credentials.server_address = std::string(server_url);
  if (not_found) return credentials;

  std::error_code error;
  web::json::value reply = web::json::value::parse(*out, error);
  if (error || !reply.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ProgramName(helper), " get \"", Sv(server_url), "\": reply is not a JSON object: \"",
        absl::StripAsciiWhitespace(*out).substr(0, 200), "\""));
  }
  std::string username = JsonStringField(reply, "Username");
  std::string secret = JsonStringField(reply, "Secret");
  if (username == kTokenUsername) {
    credentials.identity_token = std::move(secret);
  } else {
    credentials.username = std::move(username);
    credentials.password = std::move(secret);
  }
  return credentials;
}

absl::Status StoreInCredentialHelper(std::string_view helper, std::string_view server_url,
                                     const RegistryCredentials& credentials,
                                     absl::Duration timeout) {
  web::json::value request = web::json::value::object(/*keep_order=*/true);
  request["ServerURL"] = web::json::value::string(std::string(server_url));
  if (!credentials.identity_token.empty()) {
    request["Username"] = web::json::value::string(std::string(kTokenUsername));
    request["Secret"] = web::json::value::string(credentials.identity_token);
  } else {
    request["Username"] = web::json::value::string(credentials.username);
    request["Secret"] = web::json::value::string(credentials.password);
  }
  return RunHelper(helper, "store", request.serialize(), server_url, timeout, nullptr).status();
}

absl::Status EraseFromCredentialHelper(std::string_view helper, std::string_view server_url,
                                       absl::Duration timeout) {
  bool not_found = false;
  return RunHelper(helper, "erase", server_url, server_url, timeout, &not_found).status();
}

}  // namespace kim
