// What the commands share about a cluster's nodes: the --node and --distribute flags, running a
// call on several nodes' agents at once, and copying images from one node to others.
#ifndef KIM_APPS_KIM_COMMANDS_NODES_H_
#define KIM_APPS_KIM_COMMANDS_NODES_H_

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "apps/kim/cli/command.h"
#include "kim/connect.h"

namespace kim::cli {

// The --node flag of images, pull, tag and rmi: act on that node's agent only.
Flag NodeFlag();

// kim::ConnectNodeImageServices for the global flags and --node.
absl::StatusOr<std::vector<NodeImageService>> ConnectNodes(const FlagValues& flags);

// Runs `call` once for each node whose agent could be reached, all at once, and returns when
// every call has returned. `call` gets the node's index in `nodes`.
void ForEachReachableNode(std::vector<NodeImageService>& nodes,
                          const std::function<void(size_t)>& call);

// The nodes a --distribute value names: none, every other node ("all"), or a list.
struct DistributeTargets {
  bool all = false;                // every node but the source
  std::vector<std::string> nodes;  // these nodes (empty with all, and for "none")
  bool none() const { return !all && nodes.empty(); }
};

// Parses "none", "all" or "NODE[,NODE...]". InvalidArgument for an empty value or node name.
absl::StatusOr<DistributeTargets> ParseDistributeTargets(const std::string& value);

// What DistributeImages needs besides the images.
struct DistributeRequest {
  std::vector<std::string> images;  // references or IDs, as ImageService::Distribute takes them
  std::string source;               // the node that has them
  DistributeTargets targets;
  bool pin = true;                  // pin on the source and the receivers
  bool tty = false;                 // draw progress bars (the output is a terminal)
};

// Pins the images on the source node (`source`, that node's agent), then copies them to the
// target nodes among `nodes` agent to agent, with per-node progress and a summary line per node
// on `out`. A named node that has no agent is an error; nodes that are not ready are reported
// and counted as failed. Returns the first failure (naming the node and how to retry) after
// every node is done.
absl::Status DistributeImages(ImageService& source, const std::vector<NodeAgent>& nodes,
                              const DistributeRequest& request, std::ostream& out);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_COMMANDS_NODES_H_
