// Per-node agents and builders of an installed kim: ConnectNodeImageServices, ChooseBuilderNode
// and the node-aimed endpoints ConnectImageService / ConnectBuildService use with options.node.
#include "lib/connect/node_agents.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/connect/builder_choice.h"
#include "lib/connect/builder_route.h"
#include "lib/images/agent_client.h"
#include "lib/kube/user_access.h"

namespace kim {
namespace {

std::vector<std::string> NodeNames(const std::vector<kube::AgentEndpoint>& agents) {
  std::vector<std::string> names;
  for (const kube::AgentEndpoint& agent : agents) names.push_back(agent.node);
  return names;
}

// The discovered cluster and its agents, for the functions below.
struct Discovered {
  ClusterBuilder found;
  std::vector<kube::AgentEndpoint> agents;
};

absl::StatusOr<Discovered> DiscoverNodes(const ConnectOptions& options) {
  auto found = DiscoverBuilder(options);
  if (!found.ok()) return found.status();
  auto agents = DiscoverNodeAgents(options, *found->client);
  if (!agents.ok()) return agents.status();
  return Discovered{*std::move(found), *std::move(agents)};
}

}  // namespace

absl::StatusOr<std::vector<kube::AgentEndpoint>> DiscoverNodeAgents(const ConnectOptions& options,
                                                                    kube::Client& client) {
  auto agents = kube::DiscoverAgents(client, options.namespace_name);
  if (!agents.ok()) return kube::WithUserRoleHint(agents.status(), options.namespace_name);
  return agents;
}

absl::StatusOr<kube::BuilderEndpoint> AgentEndpointOnNode(
    const kube::BuilderEndpoint& builder, const std::vector<kube::AgentEndpoint>& agents,
    const std::string& node) {
  for (const kube::AgentEndpoint& agent : agents) {
    if (agent.node != node) continue;
    // The first builder node is reached as discovery says (the endpoint-override address too).
    if (node == builder.node_name) return builder;
    kube::BuilderEndpoint endpoint = builder;
    endpoint.host = agent.host;
    endpoint.node_name = agent.node;
    if (agent.port != 0) endpoint.agent_port = agent.port;
    return endpoint;
  }
  return absl::NotFoundError(absl::StrCat(
      "node \"", node, "\" has no kim agent (nodes with one: ",
      agents.empty() ? "none" : absl::StrJoin(NodeNames(agents), ", "),
      "; a node that joined after `kim system install` gets one when it runs again)"));
}

absl::StatusOr<kube::BuilderEndpoint> BuilderEndpointOnNode(const kube::BuilderEndpoint& builder,
                                                            const std::string& node) {
  std::vector<std::string> names;
  for (const kube::BuilderNodeAddress& address : builder.builders) {
    if (address.node == node && node == builder.node_name) return builder;
    if (address.node == node) {
      kube::BuilderEndpoint endpoint = builder;
      endpoint.host = address.host;
      endpoint.node_name = address.node;
      return endpoint;
    }
    names.push_back(address.node);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "node \"", node, "\" runs no builder (builder nodes: ",
      names.empty() ? "none" : absl::StrJoin(names, ", "),
      "); choose builder nodes with `kim system install --selector`"));
}

absl::StatusOr<std::string> PickBuildNode(const kube::BuilderEndpoint& builder,
                                          const std::vector<kube::AgentEndpoint>& agents,
                                          const std::string& node, const std::string& key) {
  if (!node.empty()) {
    auto endpoint = BuilderEndpointOnNode(builder, node);
    if (!endpoint.ok()) return endpoint.status();
    return node;
  }
  std::vector<std::string> ready;
  for (const kube::BuilderNodeAddress& address : builder.builders) {
    auto agent = std::find_if(agents.begin(), agents.end(), [&](const kube::AgentEndpoint& a) {
      return a.node == address.node && a.builder && a.ready;
    });
    if (agent != agents.end()) ready.push_back(address.node);
  }
  if (!ready.empty()) return PickBuilderNode(ready, key);
  return builder.builders.empty() ? builder.node_name : builder.builders.front().node;
}

absl::StatusOr<std::unique_ptr<ImageService>> ConnectDiscoveredAgent(
    const ConnectOptions& options, const ClusterBuilder& found,
    const kube::BuilderEndpoint& endpoint) {
  auto route = RouteToBuilder(options, found.client, endpoint, endpoint.agent_port);
  if (!route.ok()) return route.status();
  return NewAgentImageService(AgentClientOptions{.address = route->address,
                                                 .server_name = route->server_name,
                                                 .tls = endpoint.tls,
                                                 .unreachable_hint = route->hint,
                                                 .cluster_credentials = found.credentials,
                                                 .keep_alive = route->keep_alive});
}

namespace {

constexpr char kNoClusterError[] =
    "this needs the cluster's nodes, but --containerd-socket or --agent-addr names one backend; "
    "run it without them (kim finds the nodes through the kubeconfig)";

// The nodes of `discovered` as NodeAgents (only options.node's when set).
absl::StatusOr<std::vector<NodeAgent>> NodeAgentsOf(const Discovered& discovered,
                                                     const ConnectOptions& options) {
  const kube::BuilderEndpoint& builder = discovered.found.endpoint;
  if (!options.node.empty()) {
    auto endpoint = AgentEndpointOnNode(builder, discovered.agents, options.node);
    if (!endpoint.ok()) return endpoint.status();
  }
  std::vector<NodeAgent> nodes;
  for (const kube::AgentEndpoint& agent : discovered.agents) {
    if (!options.node.empty() && agent.node != options.node) continue;
    nodes.push_back(NodeAgent{.node = agent.node,
                              .builder = agent.builder,
                              .ready = agent.ready,
                              .target = AgentTarget{.node = agent.node,
                                                    .address = HostPort(agent.host, agent.port),
                                                    .server_name = builder.server_name}});
  }
  return nodes;
}

}  // namespace

absl::StatusOr<std::vector<NodeAgent>> ListNodeAgents(const ConnectOptions& options) {
  if (!options.containerd_socket.empty() || !options.agent_addr.empty()) {
    return absl::FailedPreconditionError(kNoClusterError);
  }
  auto discovered = DiscoverNodes(options);
  if (!discovered.ok()) return discovered.status();
  return NodeAgentsOf(*discovered, options);
}

absl::StatusOr<std::vector<NodeImageService>> ConnectNodeImageServices(
    const ConnectOptions& options) {
  std::vector<NodeImageService> nodes;
  if (!options.containerd_socket.empty() || !options.agent_addr.empty()) {
    auto service = ConnectImageService(options);
    if (!service.ok()) return service.status();
    nodes.push_back(NodeImageService{.agent = {.ready = true}, .service = *std::move(service)});
    return nodes;
  }
  auto discovered = DiscoverNodes(options);
  if (!discovered.ok()) return discovered.status();
  auto agents = NodeAgentsOf(*discovered, options);
  if (!agents.ok()) return agents.status();
  if (agents->empty()) {
    return absl::UnavailableError(absl::StrCat(
        "no kim agent runs on any node in namespace \"", options.namespace_name,
        "\" (see `kim system info`)"));
  }
  for (NodeAgent& agent : *agents) {
    NodeImageService node{.agent = std::move(agent)};
    auto endpoint =
        AgentEndpointOnNode(discovered->found.endpoint, discovered->agents, node.agent.node);
    if (!node.agent.ready) {
      node.status = absl::UnavailableError(absl::StrCat(
          "the kim agent on node \"", node.agent.node, "\" is not ready (see `kim system info`)"));
    } else if (!endpoint.ok()) {
      node.status = endpoint.status();
    } else if (auto service = ConnectDiscoveredAgent(options, discovered->found, *endpoint);
               service.ok()) {
      node.service = *std::move(service);
    } else {
      node.status = service.status();
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

absl::StatusOr<std::string> ChooseBuilderNode(const ConnectOptions& options) {
  if (!options.buildkit_addr.empty()) return std::string();
  auto discovered = DiscoverNodes(options);
  if (!discovered.ok()) return discovered.status();
  return PickBuildNode(discovered->found.endpoint, discovered->agents, options.node,
                       options.builder_key);
}

}  // namespace kim
