// AgentImageService: an ImageService that is a client of a remote kim-agent. Internal to libkim;
// programs get one through ConnectImageService (kim/connect.h).
#ifndef KIM_LIB_IMAGES_AGENT_CLIENT_H_
#define KIM_LIB_IMAGES_AGENT_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kim/credentials.h"
#include "kim/image_service.h"
#include "kim/tls.h"

namespace kim {

// How to reach one kim-agent.
struct AgentClientOptions {
  std::string address;   // host:port
  // The name the agent's certificate must carry, when it differs from the dialled host (the
  // tunnel dials 127.0.0.1).
  std::string server_name;
  // Mutual TLS (PEM contents); empty = plaintext.
  TlsMaterial tls;
  absl::Duration call_timeout = absl::Seconds(60);  // for every call but Pull and Push
  // Added to "cannot reach" errors, e.g. what to do when a discovered node is not routable.
  std::string unreachable_hint;
  // Registry credentials stored in the cluster (`kim system login`): Pull and Push use them
  // for a registry when the caller's options carry none (MergeCredentials).
  DockerConfig cluster_credentials;
  // Kept as long as the client: what the connection runs through (the API-server tunnel).
  std::shared_ptr<void> keep_alive;
};

// Returns a client; it connects lazily, so an unreachable agent shows at the first call as
// Unavailable("cannot reach kim-agent at ADDR: ..."). InvalidArgument without an address or
// for a certificate without its key (or the reverse).
absl::StatusOr<std::unique_ptr<ImageService>> NewAgentImageService(
    const AgentClientOptions& options);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_AGENT_CLIENT_H_
