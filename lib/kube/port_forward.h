// A TCP port of a pod brought to this machine's loopback through the API server, the way
// `kubectl port-forward` does it: each connection to the local port is one WebSocket
// port-forward (`v4.channel.k8s.io`) to the pod. Bytes pass through unchanged, so a TLS session
// inside (kim's mutual TLS with the builder) runs end to end. Internal to libkim.
#ifndef KIM_LIB_KUBE_PORT_FORWARD_H_
#define KIM_LIB_KUBE_PORT_FORWARD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"

namespace kim::kube {

// Which pod port to forward.
struct PortForwardOptions {
  std::string namespace_name;
  std::string pod;
  int port = 0;
  // How long opening one WebSocket (API server, kubelet, the node's runtime) may take.
  absl::Duration connect_timeout = absl::Seconds(10);
};

// A running forward. Thread-safe; the destructor closes the listener and every connection.
class PortForward {
 public:
  // Listens on 127.0.0.1 (a free port) and opens the first WebSocket at once, so that a
  // refusal shows here: PermissionDenied naming the RBAC rule the tunnel needs, NotFound when
  // the pod is gone, Unavailable when the API server or the node does not answer.
  static absl::StatusOr<std::unique_ptr<PortForward>> Start(std::shared_ptr<Client> client,
                                                            const PortForwardOptions& options);
  virtual ~PortForward() = default;

  // "127.0.0.1:PORT", for a client to dial.
  virtual std::string local_address() const = 0;
};

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_PORT_FORWARD_H_
