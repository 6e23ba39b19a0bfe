// kube::Client's credentials and HTTP clients (client_state.h).
#include "lib/kube/client_state.h"

#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

#include <boost/asio/ssl.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/core/http_client.h"

namespace kim::kube {

using web::http::client::http_client;

int VerifyAgainstServerName(X509_STORE_CTX* store, void* arg) {
  const char* name = static_cast<const char*>(arg);
  // OpenSSL's own per-certificate verdicts (cpprestsdk's callback would check the URL's host).
  X509_STORE_CTX_set_verify_cb(store, [](int ok, X509_STORE_CTX*) { return ok; });
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(store);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, name) != 1) {
    X509_VERIFY_PARAM_set1_host(param, name, 0);
  }
  return X509_verify_cert(store);
}

absl::StatusOr<std::shared_ptr<http_client>> Client::State::Build(const std::string& cert,
                                                                  const std::string& key,
                                                                  absl::Duration timeout) {
  HttpClientOptions options;
  options.base_url = config.server;
  options.ca_pem = config.ca_pem;
  options.client_cert_pem = cert;
  options.client_key_pem = key;
  options.insecure_skip_verify = config.insecure_skip_tls_verify;
  options.timeout = timeout;
  auto built = NewHttpClient(options);  // validates the URL and the PEMs
  if (!built.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig (", config.source, "): ",
                                                   built.status().message()));
  }
  if (config.tls_server_name.empty() || config.insecure_skip_tls_verify) {
    return std::shared_ptr<http_client>(std::move(*built));
  }
  // tls-server-name: the same client plus a chain verification against that name.
  web::http::client::http_client_config http_config = (*built)->client_config();
  auto previous = http_config.get_ssl_context_callback();
  std::shared_ptr<std::string> name = server_name;
  http_config.set_ssl_context_callback([previous, name](boost::asio::ssl::context& context) {
    if (previous) previous(context);
    SSL_CTX_set_cert_verify_callback(context.native_handle(), VerifyAgainstServerName,
                                     const_cast<char*>(name->c_str()));
  });
  return std::make_shared<http_client>((*built)->base_uri(), http_config);
}

absl::StatusOr<RequestCredentials> Client::State::Credentials() {
  RequestCredentials out{.cert_pem = config.client_cert_pem, .key_pem = config.client_key_pem};
  if (exec) {
    auto credential = exec->Get();
    if (!credential.ok()) return credential.status();
    if (!credential->client_cert_pem.empty()) {
      out.cert_pem = credential->client_cert_pem;
      out.key_pem = credential->client_key_pem;
    }
    if (!credential->token.empty()) out.authorization = "Bearer " + credential->token;
  }
  if (!out.authorization.empty()) return out;
  std::lock_guard<std::mutex> lock(mu);
  if (!config.token_file.empty() && absl::Now() - token_read > absl::Minutes(1)) {
    std::ifstream file(config.token_file);
    std::stringstream buffer;
    buffer << file.rdbuf();
    if (file) token = std::string(absl::StripAsciiWhitespace(buffer.str()));
    token_read = absl::Now();
  }
  const std::string& bearer = !token.empty() ? token : config.bearer_token;
  if (!bearer.empty()) {
    out.authorization = "Bearer " + bearer;
  } else if (!config.username.empty() || !config.password.empty()) {
    out.authorization = "Basic " + absl::Base64Escape(config.username + ":" + config.password);
  }
  return out;
}

absl::StatusOr<std::pair<std::shared_ptr<http_client>, std::string>> Client::State::Prepare(
    bool watch) {
  auto credentials = Credentials();
  if (!credentials.ok()) return credentials.status();
  std::lock_guard<std::mutex> lock(mu);
  if (client == nullptr || credentials->cert_pem != client_cert) {
    auto built = Build(credentials->cert_pem, credentials->key_pem, absl::Seconds(30));
    if (!built.ok()) return built.status();
    auto built_watch = Build(credentials->cert_pem, credentials->key_pem, absl::Seconds(90));
    if (!built_watch.ok()) return built_watch.status();
    client = *built;
    watch_client = *built_watch;
    client_cert = credentials->cert_pem;
  }
  return std::make_pair(watch ? watch_client : client, credentials->authorization);
}

absl::StatusOr<StreamingAccess> Client::Streaming() {
  auto credentials = state_->Credentials();
  if (!credentials.ok()) return credentials.status();
  const RestConfig& config = state_->config;
  StreamingAccess access{.server = config.server,
                         .authorization = credentials->authorization,
                         .verify_server = !config.insecure_skip_tls_verify};
  // The name to check: tls-server-name, else the URL's host (without brackets for IPv6).
  auto name = std::make_shared<std::string>(config.tls_server_name);
  if (name->empty()) {
    *name = web::uri(config.server).host();
    if (name->size() > 2 && name->front() == '[') *name = name->substr(1, name->size() - 2);
  }
  const std::string ca = config.ca_pem, cert = credentials->cert_pem, key = credentials->key_pem;
  const bool verify = access.verify_server;
  access.configure_tls = [ca, cert, key, name, verify](boost::asio::ssl::context& context) {
    if (!ca.empty()) {
      context.add_certificate_authority(boost::asio::buffer(ca));
    } else {
      context.set_default_verify_paths();  // no CA in the kubeconfig: the system's roots
    }
    if (!cert.empty()) context.use_certificate_chain(boost::asio::buffer(cert));
    if (!key.empty()) context.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem);
    if (verify) {
      SSL_CTX_set_cert_verify_callback(context.native_handle(), VerifyAgainstServerName,
                                       const_cast<char*>(name->c_str()));
    }
  };
  return access;
}

}  // namespace kim::kube
