// Port-forward as kubectl does it since Kubernetes 1.31: one WebSocket to the API server
// (subprotocol "SPDY/3.1+portforward.k8s.io") carrying a SPDY session that the API server hands
// on to the kubelet and the node's runtime. Every forwarded connection is a pair of SPDY streams
// (error, data) with its own request id, so one WebSocket carries them all, and the node's
// runtime reads plain SPDY frames (far cheaper than its WebSocket channel server).
// Internal to lib/kube (port_forward.cc).
#ifndef KIM_LIB_KUBE_SPDY_TUNNEL_H_
#define KIM_LIB_KUBE_SPDY_TUNNEL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"
#include "lib/kube/port_forward.h"
#include "lib/kube/port_forward_stream.h"

namespace kim::kube {

class SpdyTunnel {
 public:
  // Opens the WebSocket; the API server answers only once the node's runtime accepted the
  // SPDY upgrade. Errors as for PortForward::Start; FailedPrecondition when the API server
  // has no SPDY tunnelling (before 1.31, or the PortForwardWebsockets gate off).
  static absl::StatusOr<std::shared_ptr<SpdyTunnel>> Open(
      Client& client, const PortForwardOptions& options,
      PortForwardStream::ErrorTextHandler on_error_text);
  virtual ~SpdyTunnel() = default;

  // Relays the connected socket `fd` (taken over, closed at the end) through a new stream pair
  // until either side ends. Blocks; many may run at once.
  virtual void Relay(int fd) = 0;
  // Ends every running Relay soon.
  virtual void Abort() = 0;
  // False once the WebSocket has closed (new connections then need a new tunnel).
  virtual bool alive() const = 0;
};

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_SPDY_TUNNEL_H_
