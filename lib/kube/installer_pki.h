// The builder's mutual-TLS PKI, kept in Secrets of kim's namespace (kim-ca, kim-tls-server,
// kim-tls-client): loaded, and generated or renewed when missing, invalid or near expiry.
// Internal to libkim.
#ifndef KIM_LIB_KUBE_INSTALLER_PKI_H_
#define KIM_LIB_KUBE_INSTALLER_PKI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"
#include "lib/kube/object_helpers.h"

namespace kim::kube {

// The names the server certificate carries besides the builder Service's and localhost.
struct ServerNames {
  std::vector<std::string> hostnames;  // every served node's
  std::vector<std::string> ips;        // every served node's InternalIP/ExternalIP addresses
  std::string endpoint_addr;           // --endpoint-addr (an IP or a DNS name), if any
};

// Loads or (re)generates the CA, the server and the client certificates in namespace `ns`,
// telling `progress` what it generates or renews. The server certificate is for serverAuth and
// clientAuth (agents dial each other with it); one lacking clientAuth is renewed. Returns the server certificate's checksum
// (pods restart when it changes); the API server's errors otherwise.
absl::StatusOr<std::string> EnsureBuilderPki(Client& client, const std::string& ns,
                                             const ServerNames& names, const Progress& progress);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_INSTALLER_PKI_H_
