// Connect: chooses and builds the backend clients for the options: local containerd, explicit
// addresses, or the builder discovered in the cluster and reached by RouteToBuilder. TLS material
// goes to the clients in memory: the caller's for explicit addresses, the cluster's Secret for a
// discovered builder.
#include "kim/connect.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/build/buildkit_client.h"
#include "lib/connect/builder_route.h"
#include "lib/connect/connect_kube.h"
#include "lib/connect/node_agents.h"
#include "lib/images/agent_client.h"
#include "lib/images/containerd_image_service.h"

namespace kim {

absl::StatusOr<std::unique_ptr<ImageService>> ConnectImageService(const ConnectOptions& options) {
  if (!options.containerd_socket.empty()) {
    return NewContainerdImageService(ContainerdOptions{.socket = options.containerd_socket});
  }
  if (!options.agent_addr.empty()) {
    return NewAgentImageService(AgentClientOptions{.address = options.agent_addr,
                                                   .tls = options.tls});
  }
  // Default: the kim-agent of the builder installed in the cluster (or of options.node),
  // reached directly or through the API server (options.tunnel). Its pulls and pushes use the
  // registry credentials stored in the cluster (`kim system login`) for registries the caller
  // has none for.
  auto found = DiscoverBuilder(options);
  if (!found.ok()) return found.status();
  kube::BuilderEndpoint endpoint = found->endpoint;
  if (!options.node.empty()) {
    auto agents = DiscoverNodeAgents(options, *found->client);
    if (!agents.ok()) return agents.status();
    auto on_node = AgentEndpointOnNode(endpoint, *agents, options.node);
    if (!on_node.ok()) return on_node.status();
    endpoint = *std::move(on_node);
  }
  return ConnectDiscoveredAgent(options, *found, endpoint);
}

absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuildService(const ConnectOptions& options) {
  if (!options.buildkit_addr.empty()) {
    return build::NewBuildKitService({.address = options.buildkit_addr, .tls = options.tls});
  }
  // Default: the buildkitd of the builder installed in the cluster, with the client
  // certificate from its Secret, reached directly or through the API server. The build's
  // registry credentials are the user's merged with those stored in the cluster.
  // With several builder nodes, the one options.node names, else the ready one the build's
  // key maps to (PickBuildNode), so that the same context finds its cache again.
  auto found = DiscoverBuilder(options);
  if (!found.ok()) return found.status();
  kube::BuilderEndpoint builder = found->endpoint;
  if (!options.node.empty() || builder.builders.size() > 1) {
    auto agents = DiscoverNodeAgents(options, *found->client);
    if (!agents.ok()) return agents.status();
    auto node = PickBuildNode(builder, *agents, options.node, options.builder_key);
    if (!node.ok()) return node.status();
    auto on_node = BuilderEndpointOnNode(builder, *node);
    if (!on_node.ok()) return on_node.status();
    builder = *std::move(on_node);
  }
  auto route = RouteToBuilder(options, found->client, builder, builder.buildkit_port);
  if (!route.ok()) return route.status();
  return build::NewBuildKitService(
      {.address = absl::StrCat("tcp://", route->address),
       .tls = builder.tls,
       .server_name = route->server_name,
       .unreachable_hint = route->hint,
       .credentials = std::make_shared<const CredentialStore>(std::move(found->credentials)),
       .keep_alive = route->keep_alive});
}

absl::StatusOr<std::unique_ptr<Installer>> ConnectInstaller(const ConnectOptions& options) {
  auto client = ConnectKube(options);
  if (!client.ok()) return client.status();
  return kube::NewKubeInstaller(*std::move(client), options.namespace_name);
}

}  // namespace kim
