// Kubernetes discovery for Connect.
#include "lib/connect/connect_kube.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "kim/log.h"
#include "lib/kube/cluster_credentials.h"
#include "lib/kube/user_access.h"

namespace kim {

absl::StatusOr<std::shared_ptr<kube::Client>> ConnectKube(const ConnectOptions& options) {
  // The CLI fills --kubeconfig from $KUBECONFIG when the flag is absent; a value that is the
  // variable's gets the variable's rules (files that do not exist are skipped, like client-go).
  std::string explicit_paths = options.kubeconfig;
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && explicit_paths == env) {
    explicit_paths.clear();
  }
  auto config = kube::LoadRestConfig(kube::LoadOptionsFromEnvironment(explicit_paths,
                                                                      options.context));
  if (!config.ok()) return config.status();
  auto client = kube::Client::New(*config);
  if (!client.ok()) return client.status();
  return std::shared_ptr<kube::Client>(std::move(*client));
}

DockerConfig ClusterCredentials(kube::Client& client, const std::string& ns) {
  auto stored = kube::ReadClusterCredentials(client, ns);
  if (stored.ok()) return *std::move(stored);
  LogDebug(0, absl::StrCat("not using the registry credentials stored in the cluster: ",
                           stored.status().message()));
  return DockerConfig();
}

absl::StatusOr<ClusterBuilder> DiscoverBuilder(const ConnectOptions& options) {
  auto client = ConnectKube(options);
  if (!client.ok()) return client.status();
  auto endpoint = kube::DiscoverBuilder(**client, options.namespace_name);
  if (!endpoint.ok()) return kube::WithUserRoleHint(endpoint.status(), options.namespace_name);
  return ClusterBuilder{.client = *client,
                        .endpoint = *std::move(endpoint),
                        .credentials = ClusterCredentials(**client, options.namespace_name)};
}

}  // namespace kim
