// The nodes of a cluster with kim installed: which node's agent or builder a call goes to, and
// the clients for them. Internal to libkim; programs use kim/connect.h.
#ifndef KIM_LIB_CONNECT_NODE_AGENTS_H_
#define KIM_LIB_CONNECT_NODE_AGENTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/connect.h"
#include "lib/connect/connect_kube.h"
#include "lib/kube/installer.h"

namespace kim {

// kube::DiscoverAgents in options' namespace; a refusal names the kim-user role to bind.
absl::StatusOr<std::vector<kube::AgentEndpoint>> DiscoverNodeAgents(const ConnectOptions& options,
                                                                    kube::Client& client);

// `builder` aimed at `node`'s kim-agent instead (its pod's address and node), from `agents`
// (kube::DiscoverAgents). NotFound naming the nodes that have an agent when `node` has none.
absl::StatusOr<kube::BuilderEndpoint> AgentEndpointOnNode(
    const kube::BuilderEndpoint& builder, const std::vector<kube::AgentEndpoint>& agents,
    const std::string& node);

// `builder` aimed at builder node `node` (an address from Endpoints "builder").
// FailedPrecondition naming the builder nodes when `node` is not one of them.
absl::StatusOr<kube::BuilderEndpoint> BuilderEndpointOnNode(const kube::BuilderEndpoint& builder,
                                                            const std::string& node);

// The builder node for a build: `node` when set, else the ready builder node `key` maps to
// (PickBuilderNode), else the first builder node.
absl::StatusOr<std::string> PickBuildNode(const kube::BuilderEndpoint& builder,
                                          const std::vector<kube::AgentEndpoint>& agents,
                                          const std::string& node, const std::string& key);

// A client of the kim-agent at `endpoint` (host, node and ports), reached the way
// options.tunnel says, with the cluster's client certificate and stored registry credentials.
absl::StatusOr<std::unique_ptr<ImageService>> ConnectDiscoveredAgent(
    const ConnectOptions& options, const ClusterBuilder& found,
    const kube::BuilderEndpoint& endpoint);

}  // namespace kim

#endif  // KIM_LIB_CONNECT_NODE_AGENTS_H_
