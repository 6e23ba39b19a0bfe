// The nodes `kim system install` serves: reading Node objects, choosing the builder nodes, and
// giving every other containerd node an agent of its containerd layout. Pure functions over the
// API's JSON, so that the choices are unit-tested. Internal to libkim.
#ifndef KIM_LIB_KUBE_INSTALL_NODES_H_
#define KIM_LIB_KUBE_INSTALL_NODES_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"
#include "lib/kube/installer_objects.h"

namespace kim::kube {

// One node as kim sees it.
struct ServedNode {
  std::string name;
  std::string address;                 // InternalIP, else ExternalIP; empty when it has neither
  std::vector<std::string> ips;        // every InternalIP/ExternalIP
  std::vector<std::string> hostnames;  // its name, Hostname and DNS addresses
  std::string runtime_version;         // status.nodeInfo.containerRuntimeVersion
  bool ready = false;                  // condition Ready=True (a kubelet reports in)
  bool builder_label = false;          // labelled node-role.kubernetes.io/builder=true
  std::string runtime_label;           // its kim.rancher.io/runtime label, if any
  RuntimePaths runtime;                // set by PlanNodes
};

// Reads a Node object (runtime left empty).
ServedNode ReadNode(const Json& node);

// --containerd-socket and --containerd-volume, when given.
struct RuntimeFlags {
  std::string socket;
  std::string volume;
};

// The containerd layout of `node`: detected from its runtime version, with the flags applied.
// A builder pod uses both the socket and the volume (flavour "custom" when either flag is
// given); an agent-only pod uses the socket alone ("custom" when --containerd-socket is given).
// FailedPrecondition (DetectRuntime's message) when the node runs no containerd and the flags
// do not say where one is.
absl::StatusOr<RuntimePaths> NodeRuntime(const ServedNode& node, const RuntimeFlags& flags,
                                         bool builder);

// The builder nodes' names from the nodes `selector` matched (a NodeList): every match; without
// a selector the only node of a one-node cluster. FailedPrecondition when nothing matches, or
// when there is no selector and several nodes ("choose builder nodes with --selector").
absl::StatusOr<std::set<std::string>> ChooseBuilderNodes(const Json& matching,
                                                         const std::string& selector);

// Who runs what.
struct NodePlan {
  std::vector<ServedNode> builders;   // by name; all of one containerd layout
  std::vector<ServedNode> agents;     // every other node with a containerd, by name
  std::vector<std::string> warnings;  // a line per node left out, saying why
  // The nodes kim serves: builders then agents.
  std::vector<const ServedNode*> All() const;
};

// Plans the install over every node of the cluster (`all_nodes`, a NodeList). FailedPrecondition
// when a builder node has no address or no containerd, or when the builder nodes do not share
// one containerd layout (naming the nodes and their runtimes). Other nodes without a containerd
// are left out with a warning.
absl::StatusOr<NodePlan> PlanNodes(const Json& all_nodes, const std::set<std::string>& builders,
                                   const RuntimeFlags& flags);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_INSTALL_NODES_H_
