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
  // Default: the kim-agent of the builder installed in the cluster, reached directly or through
  // the API server (options.tunnel). Its pulls and pushes use the registry credentials stored
  // in the cluster (`kim system login`) for registries the caller has none for.
  auto found = DiscoverBuilder(options);
  if (!found.ok()) return found.status();
  const kube::BuilderEndpoint& builder = found->endpoint;
  auto route = RouteToBuilder(options, found->client, builder, builder.agent_port);
  if (!route.ok()) return route.status();
  return NewAgentImageService(AgentClientOptions{
      .address = route->address,
      .server_name = route->server_name,
      .tls = builder.tls,
      .unreachable_hint = route->hint,
      .cluster_credentials = std::move(found->credentials),
      .keep_alive = route->keep_alive});
}

absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuildService(const ConnectOptions& options) {
  if (!options.buildkit_addr.empty()) {
    return build::NewBuildKitService({.address = options.buildkit_addr, .tls = options.tls});
  }
  // Default: the buildkitd of the builder installed in the cluster, with the client
  // certificate from its Secret, reached directly or through the API server. The build's
  // registry credentials are the user's merged with those stored in the cluster.
  auto found = DiscoverBuilder(options);
  if (!found.ok()) return found.status();
  const kube::BuilderEndpoint& builder = found->endpoint;
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
