// Connect: chooses and builds the backend clients for the CLI's options.
//
// Backends not built yet in this version of libkim say so with an Unimplemented status naming
// what is missing, so that every command fails plainly.
#include "kim/connect.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/images/containerd_image_service.h"
#include "lib/connect/connect_agent.h"
#include "lib/connect/connect_kube.h"
#include "lib/images/agent_client.h"
#include "lib/connect/connect_build.h"

namespace kim {
namespace {

// What to do when the builder's discovered node address does not route from here (the most
// common trouble of the original kim: laptops outside the cluster's network).
std::string UnroutableHint(const std::string& host) {
  return absl::StrCat("is the node address ", host,
                      " routable from here? If not, reinstall with `kim system install --force "
                      "--endpoint-addr ADDRESS` giving one that is");
}

}  // namespace

absl::StatusOr<std::unique_ptr<ImageService>> ConnectImageService(const ConnectOptions& options) {
  if (!options.containerd_socket.empty()) {
    return NewContainerdImageService(ContainerdOptions{.socket = options.containerd_socket});
  }
  if (!options.agent_addr.empty()) return ConnectAgent(options);
  // Default: the kim-agent of the builder installed in the cluster.
  // Its pulls and pushes use the registry credentials stored in the cluster (`kim system
  // login`) for registries the caller has none for.
  auto found = DiscoverBuilder(options);
  if (!found.ok()) return found.status();
  const kube::BuilderEndpoint& builder = found->endpoint;
  return NewAgentImageService(AgentClientOptions{
      .address = absl::StrCat(builder.host, ":", builder.agent_port),
      .ca_pem = builder.ca_pem,
      .cert_pem = builder.cert_pem,
      .key_pem = builder.key_pem,
      .unreachable_hint = UnroutableHint(builder.host),
      .cluster_credentials = std::move(found->credentials)});
}

absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuildService(const ConnectOptions& options) {
  if (!options.buildkit_addr.empty()) return ConnectBuild(options);
  // Default: the buildkitd of the builder installed in the cluster, with the client
  // certificate from its Secret (handed over as private temporary files, removed once read).
  // The build's registry credentials are the user's merged with those stored in the cluster.
  auto found = DiscoverBuilder(options);
  if (!found.ok()) return found.status();
  const kube::BuilderEndpoint& builder = found->endpoint;
  auto files = WriteTlsFiles(builder);
  if (!files.ok()) return files.status();
  ConnectOptions direct = options;
  direct.buildkit_addr = absl::StrCat("tcp://", builder.host, ":", builder.buildkit_port);
  direct.tls_ca_cert = files->dir + "/ca.pem";
  direct.tls_cert = files->dir + "/cert.pem";
  direct.tls_key = files->dir + "/key.pem";
  return ConnectBuild(direct, UnroutableHint(builder.host),
                      std::make_shared<const CredentialStore>(std::move(found->credentials)));
}

absl::StatusOr<std::unique_ptr<Installer>> NewInstaller(const ConnectOptions& options) {
  auto client = ConnectKube(options);
  if (!client.ok()) return client.status();
  return kube::NewKubeInstaller(*std::move(client), options.namespace_name);
}

}  // namespace kim
