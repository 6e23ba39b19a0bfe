// The inside of kube::Client, shared by its source files: the configuration, the credentials of
// the next request (certificates, tokens, exec plugins) and the HTTP clients built for them.
// Internal to lib/kube.
#ifndef KIM_LIB_KUBE_CLIENT_STATE_H_
#define KIM_LIB_KUBE_CLIENT_STATE_H_

#include <openssl/x509.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <cpprest/http_client.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"
#include "lib/kube/exec_credential.h"

namespace kim::kube {

// Verifies the server's certificate chain and its name against `arg` (a NUL-terminated host
// name or IP address) instead of the URL's host: OpenSSL's whole-chain callback, so that
// cpprestsdk's own host check is bypassed.
int VerifyAgainstServerName(X509_STORE_CTX* store, void* arg);

// The credentials one request carries.
struct RequestCredentials {
  std::string cert_pem, key_pem;  // client certificate (may be empty)
  std::string authorization;      // Authorization header value, or empty
};

struct Client::State {
  RestConfig config;
  std::unique_ptr<ExecCredentialProvider> exec;
  std::mutex mu;
  std::shared_ptr<web::http::client::http_client> client;        // for ordinary requests
  std::shared_ptr<web::http::client::http_client> watch_client;  // longer timeout
  std::string client_cert;  // the certificate `client` was built with
  std::string token;        // from token_file, re-read every minute
  absl::Time token_read = absl::InfinitePast();
  std::shared_ptr<std::string> server_name;

  // An HTTP client for the server with this client certificate and request timeout.
  absl::StatusOr<std::shared_ptr<web::http::client::http_client>> Build(const std::string& cert,
                                                                        const std::string& key,
                                                                        absl::Duration timeout);
  // The credentials of the next request: the exec plugin's, else the token file's (re-read
  // every minute), the token, basic auth, and the kubeconfig's client certificate.
  absl::StatusOr<RequestCredentials> Credentials();
  // The client to use and the Authorization header value for the next request.
  absl::StatusOr<std::pair<std::shared_ptr<web::http::client::http_client>, std::string>> Prepare(
      bool watch);
};

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_CLIENT_STATE_H_
