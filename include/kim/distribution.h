// Distribution: copying images from one node's containerd to other nodes' kim-agents, agent to
// agent, sending only the blobs each node lacks (ImageService::Distribute).
#ifndef KIM_DISTRIBUTION_H_
#define KIM_DISTRIBUTION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "kim/cancellation.h"
#include "kim/tls.h"

namespace kim {

// One node's kim-agent to send images to.
struct AgentTarget {
  std::string node;         // node name, for progress and errors
  std::string address;      // "host:port" of its kim-agent
  std::string server_name;  // name its certificate carries ("builder.<ns>.svc"); empty = host
};

// Where a distribution to one node stands.
struct DistributeProgress {
  // The steps of one node's distribution, in order (kFailed may come from any of them).
  enum class Phase { kComparing, kSending, kCommitting, kDone, kFailed };
  std::string node;
  Phase phase = Phase::kComparing;
  int blobs_total = 0;     // blobs of the images (indexes, manifests, configs, layers)
  int blobs_missing = 0;   // of them, those the node lacked (only these move)
  int64_t bytes_total = 0; // bytes of the missing blobs
  int64_t bytes_sent = 0;
  std::string error;       // with kFailed
};

// Options for ImageService::Distribute.
struct DistributeOptions {
  std::vector<AgentTarget> targets;
  bool pin = true;          // label the images io.cri-containerd.pinned=pinned on the receivers
  TlsMaterial tls;          // client TLS for dialing receivers (in-process senders; kim-agent
                            // uses its own --tlscert/--tlskey/--tlscacert); empty = plaintext
  std::function<void(const DistributeProgress&)> progress;  // may be empty; any thread
  Cancellation* cancellation = nullptr;
};

// What a distribution did on one node.
struct NodeDistribution {
  std::string node;
  absl::Status status;       // OK, or why this node failed (the others still go on)
  int blobs_total = 0;
  int blobs_sent = 0;
  int64_t bytes_sent = 0;
  std::vector<std::string> names;  // image names committed there
};

}  // namespace kim

#endif  // KIM_DISTRIBUTION_H_
