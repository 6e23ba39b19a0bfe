// Reaching the cluster: a Kubernetes client from the CLI's options, and the builder found
// through it (address, ports, client certificate).
#ifndef KIM_LIB_CONNECT_CONNECT_KUBE_H_
#define KIM_LIB_CONNECT_CONNECT_KUBE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kim/connect.h"
#include "kim/credentials.h"
#include "lib/kube/client.h"
#include "lib/kube/installer.h"

namespace kim {

// Loads the kubeconfig the options select (client-go rules) and returns a client for it.
absl::StatusOr<std::shared_ptr<kube::Client>> ConnectKube(const ConnectOptions& options);

// The registry credentials `kim system login` stored in namespace `ns` (for merging under the
// user's own, see MergeCredentials). When they cannot be read (the user may not read Secrets
// there: RBAC 403; a Secret that is not a Docker config), none, logged at debug level: the
// user's own credentials still work.
DockerConfig ClusterCredentials(kube::Client& client, const std::string& ns);

// The installed builder, found through the options' cluster and namespace, and the registry
// credentials stored there.
struct ClusterBuilder {
  std::shared_ptr<kube::Client> client;  // the cluster it was found through
  kube::BuilderEndpoint endpoint;
  DockerConfig credentials;  // ClusterCredentials()
};
absl::StatusOr<ClusterBuilder> DiscoverBuilder(const ConnectOptions& options);

}  // namespace kim

#endif  // KIM_LIB_CONNECT_CONNECT_KUBE_H_
