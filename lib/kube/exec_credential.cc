// Exec credential plugins: KUBERNETES_EXEC_INFO in, ExecCredential JSON out.
#include "lib/kube/exec_credential.h"

#include <cpprest/json.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/core/subprocess.h"

namespace kim::kube {
namespace {

namespace json = web::json;

std::string GetString(const json::value& object, const char* key) {
  if (!object.is_object() || !object.has_field(key) || !object.at(key).is_string()) return "";
  return object.at(key).as_string();
}

}  // namespace

absl::StatusOr<ExecCredential> ParseExecCredential(const std::string& text,
                                                   const std::string& api_version) {
  json::value root;
  try {
    root = json::value::parse(text);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("the exec plugin's output is not JSON: ", e.what()));
  }
  if (GetString(root, "kind") != "ExecCredential") {
    return absl::InvalidArgumentError("the exec plugin's output is not an ExecCredential");
  }
  if (GetString(root, "apiVersion") != api_version) {
    return absl::InvalidArgumentError(
        absl::StrCat("the exec plugin answered with apiVersion \"", GetString(root, "apiVersion"),
                     "\", expected \"", api_version, "\""));
  }
  if (!root.has_field("status") || !root.at("status").is_object()) {
    return absl::InvalidArgumentError("the exec plugin's ExecCredential has no status");
  }
  const json::value& status = root.at("status");
  ExecCredential credential;
  credential.token = GetString(status, "token");
  credential.client_cert_pem = GetString(status, "clientCertificateData");
  credential.client_key_pem = GetString(status, "clientKeyData");
  const std::string expiry = GetString(status, "expirationTimestamp");
  if (!expiry.empty()) {
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, expiry, &credential.expiry, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the exec plugin's expirationTimestamp \"", expiry, "\" is not RFC 3339: ", error));
    }
  }
  if (credential.client_cert_pem.empty() != credential.client_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "the exec plugin returned a client certificate without a key or a key without a "
        "certificate");
  }
  if (credential.token.empty() && credential.client_cert_pem.empty()) {
    return absl::InvalidArgumentError(
        "the exec plugin returned neither a token nor a client certificate");
  }
  return credential;
}

ExecCredentialProvider::ExecCredentialProvider(ExecConfig config, std::string server,
                                               std::string ca_pem, bool insecure_skip_tls_verify)
    : config_(std::move(config)),
      server_(std::move(server)),
      ca_pem_(std::move(ca_pem)),
      insecure_(insecure_skip_tls_verify) {}

absl::StatusOr<ExecCredential> ExecCredentialProvider::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && cached_->expiry - absl::Seconds(10) > absl::Now()) return *cached_;
  auto fresh = Run();
  if (!fresh.ok()) return fresh.status();
  ++runs_;
  cached_ = *fresh;
  return *fresh;
}

void ExecCredentialProvider::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cached_.reset();
}

int ExecCredentialProvider::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

absl::StatusOr<ExecCredential> ExecCredentialProvider::Run() {
  json::value info = json::value::object();
  info["apiVersion"] = json::value::string(config_.api_version);
  info["kind"] = json::value::string("ExecCredential");
  json::value spec = json::value::object();
  spec["interactive"] = json::value::boolean(false);
  if (config_.provide_cluster_info) {
    json::value cluster = json::value::object();
    cluster["server"] = json::value::string(server_);
    if (!ca_pem_.empty()) {
      cluster["certificate-authority-data"] = json::value::string(absl::Base64Escape(ca_pem_));
    }
    cluster["insecure-skip-tls-verify"] = json::value::boolean(insecure_);
    spec["cluster"] = cluster;
  }
  info["spec"] = spec;

  auto program = FindExecutable(config_.command);
  if (!program.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "exec credential plugin \"", config_.command, "\" not found",
        config_.install_hint.empty() ? "" : absl::StrCat(": ", config_.install_hint)));
  }
  // `env` adds the plugin's variables to ours without touching this process's environment.
  std::vector<std::string> argv = {"env", absl::StrCat("KUBERNETES_EXEC_INFO=", info.serialize())};
  for (const auto& [name, value] : config_.env) argv.push_back(absl::StrCat(name, "=", value));
  argv.push_back(*program);
  argv.insert(argv.end(), config_.args.begin(), config_.args.end());
  auto result = RunProcess(argv, "", absl::Minutes(1));
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat("exec credential plugin \"", config_.command,
                                     "\": ", result.status().message()));
  }
  if (result->exit_code != 0) {
    return absl::UnauthenticatedError(absl::StrCat(
        "exec credential plugin \"", config_.command, "\" failed with exit code ",
        result->exit_code, result->err.empty() ? "" : ": ",
        absl::StripTrailingAsciiWhitespace(result->err)));
  }
  auto credential = ParseExecCredential(result->out, config_.api_version);
  if (!credential.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("exec credential plugin \"", config_.command,
                                                   "\": ", credential.status().message()));
  }
  return credential;
}

}  // namespace kim::kube
