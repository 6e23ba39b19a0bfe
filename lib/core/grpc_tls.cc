// Channel credentials shared by the agent and BuildKit clients.
#include "lib/core/grpc_tls.h"

#include <grpcpp/security/credentials.h>

#include "absl/status/status.h"

namespace kim {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientChannelCredentials(
    const TlsMaterial& tls) {
  if (tls.empty()) return grpc::InsecureChannelCredentials();
  if (tls.cert.empty() != tls.key.empty()) {
    return absl::InvalidArgumentError("a client certificate needs its key, and a key its "
                                      "certificate (--tlscert and --tlskey)");
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls.ca;
  ssl.pem_cert_chain = tls.cert;
  ssl.pem_private_key = tls.key;
  return grpc::SslCredentials(ssl);
}

}  // namespace kim
