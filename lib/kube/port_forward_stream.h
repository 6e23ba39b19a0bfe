// One WebSocket port-forward to one pod port with the channel protocol (`v4.channel.k8s.io`):
// channel 0 carries the data both ways, channel 1 the node's error text; the node opens each
// with the port number (2 bytes, little-endian). One WebSocket is one TCP connection at the pod,
// with no half-close. What every API server and node runtime speaks; the SPDY tunnel
// (spdy_tunnel.h) is preferred where the API server has it. Also the request and refusal
// helpers both share. Internal to lib/kube (port_forward.cc).
#ifndef KIM_LIB_KUBE_PORT_FORWARD_STREAM_H_
#define KIM_LIB_KUBE_PORT_FORWARD_STREAM_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"
#include "lib/kube/port_forward.h"
#include "lib/kube/websocket.h"

namespace kim::kube {

// The WebSocket request for the port-forward subresource of the options' pod, with the client's
// credentials, offering `subprotocol`; `ports_query` adds "?ports=PORT" (which the channel
// protocol needs and the SPDY tunnel does not).
absl::StatusOr<WebSocketOptions> PortForwardRequest(Client& client,
                                                    const PortForwardOptions& options,
                                                    const std::string& subprotocol,
                                                    bool ports_query);

// Why the API server refused a port-forward upgrade: PermissionDenied naming the RBAC rule the
// tunnel needs (403), NotFound for a pod that is gone (404), Unauthenticated (401), else
// Unavailable with `error` (the connection's own message).
absl::Status DescribeRefusal(const PortForwardOptions& options, const UpgradeRefusal& refusal,
                             const absl::Status& error);

// "pod "P" in namespace "N" (port 1234)", for messages.
std::string DescribeTarget(const PortForwardOptions& options);

class PortForwardStream {
 public:
  // Called with each piece of text the node sends on an error channel.
  using ErrorTextHandler = std::function<void(const std::string&)>;

  // Opens the WebSocket and waits until the node has opened both channels. Errors as for
  // PortForward::Start.
  static absl::StatusOr<std::unique_ptr<PortForwardStream>> Open(Client& client,
                                                                 const PortForwardOptions& options,
                                                                 ErrorTextHandler on_error_text);
  virtual ~PortForwardStream() = default;

  // Relays between the connected socket `fd` (taken over, closed at the end) and the WebSocket
  // until either side ends, then closes both. Blocks.
  virtual void Relay(int fd) = 0;
  // Makes a running Relay end soon (from another thread).
  virtual void Abort() = 0;
};

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_PORT_FORWARD_STREAM_H_
