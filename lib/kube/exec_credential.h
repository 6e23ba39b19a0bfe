// client.authentication.k8s.io exec credential plugins: running them, parsing their answer,
// caching it until it expires. Internal to libkim.
#ifndef KIM_LIB_KUBE_EXEC_CREDENTIAL_H_
#define KIM_LIB_KUBE_EXEC_CREDENTIAL_H_

#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/kubeconfig.h"

namespace kim::kube {

// What a plugin returned (status of an ExecCredential).
struct ExecCredential {
  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;
  absl::Time expiry = absl::InfiniteFuture();  // no expirationTimestamp = valid for this process
};

// Parses a plugin's stdout. `api_version` is what the kubeconfig asked for; the answer must
// carry the same apiVersion and kind ExecCredential. InvalidArgument otherwise, or when it holds
// neither a token nor a certificate and key.
absl::StatusOr<ExecCredential> ParseExecCredential(const std::string& json,
                                                   const std::string& api_version);

// Runs a plugin when needed and keeps its answer until expirationTimestamp. Thread-safe.
class ExecCredentialProvider {
 public:
  ExecCredentialProvider(ExecConfig config, std::string server, std::string ca_pem,
                         bool insecure_skip_tls_verify);

  // The cached credential, or a fresh one when there is none or it expires within 10 s.
  // Errors name the plugin and include its stderr (and installHint when it cannot be found).
  absl::StatusOr<ExecCredential> Get();

  // Forgets the cached credential (after the server answered 401).
  void Invalidate();

  // How many times the plugin ran (for tests and debug output).
  int runs() const;

 private:
  absl::StatusOr<ExecCredential> Run();

  const ExecConfig config_;
  const std::string server_;
  const std::string ca_pem_;
  const bool insecure_;
  mutable std::mutex mu_;
  std::optional<ExecCredential> cached_;
  int runs_ = 0;
};

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_EXEC_CREDENTIAL_H_
