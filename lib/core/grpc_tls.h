// The gRPC channel credentials of a kim client (kim-agent, buildkitd): plaintext or mutual TLS
// from in-memory PEM. Internal to libkim.
#ifndef KIM_LIB_CORE_GRPC_TLS_H_
#define KIM_LIB_CORE_GRPC_TLS_H_

#include <memory>

#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"
#include "kim/tls.h"

namespace kim {

// Insecure credentials when `tls` is empty, else SSL credentials trusting tls.ca and presenting
// tls.cert/tls.key. InvalidArgument when a certificate comes without its key or a key without
// its certificate (naming --tlscert and --tlskey).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientChannelCredentials(
    const TlsMaterial& tls);

}  // namespace kim

#endif  // KIM_LIB_CORE_GRPC_TLS_H_
