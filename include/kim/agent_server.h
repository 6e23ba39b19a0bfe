// AgentServer: the gRPC server of kim-agent, serving the kim agent API (kim.agent.v1.Images and
// kim.agent.v1.Transfer, which receives images from other agents) and grpc.health.v1.Health on
// one address, with mutual TLS when certificates are given.
#ifndef KIM_AGENT_SERVER_H_
#define KIM_AGENT_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kim/image_service.h"
#include "kim/tls.h"

namespace kim {

// Where and how the agent listens.
struct AgentServerOptions {
  std::string listen_address = "0.0.0.0:1233";  // host:port; port 0 picks a free one
  // The images the agent serves (normally the containerd ImageService of the node). When null,
  // every image call answers UNIMPLEMENTED; health and Version still work.
  std::shared_ptr<ImageService> images;
  // Mutual TLS, PEM contents (the program reads the files): all three or none. With them,
  // clients must present a certificate signed by `tls.ca`, and the server presents `tls.cert`
  // with `tls.key`; without them it speaks plaintext (for loopback and tests). The same material
  // is the agent's client certificate when Images.Distribute makes it dial other agents (so the
  // certificate needs clientAuth as well as serverAuth).
  TlsMaterial tls;
  // Without `tls`, Start refuses to serve unless this is set: plaintext means anyone who reaches
  // the port drives the node's containerd (for loopback and tests only).
  bool insecure = false;
};

// A running agent server. Thread-safe.
class AgentServer {
 public:
  // Starts serving. Returns InvalidArgument for incomplete TLS material or for none without
  // `insecure`, Unavailable when the address cannot be bound. Every call that changes images
  // (pull, push, tag, remove, load, prune) is logged to stderr with the client certificate's
  // subject. In the background it removes what receives of an earlier agent left unfinished.
  static absl::StatusOr<std::unique_ptr<AgentServer>> Start(const AgentServerOptions& options);

  virtual ~AgentServer() = default;

  // The port actually bound (useful with port 0).
  virtual int port() const = 0;

  // Stops accepting calls, lets running ones finish for up to `grace`, then cancels them.
  virtual void Shutdown(absl::Duration grace) = 0;

  // Blocks until the server has shut down.
  virtual void Wait() = 0;
};

}  // namespace kim

#endif  // KIM_AGENT_SERVER_H_
