// Registry credentials stored in the cluster by `kim system login`: the
// kubernetes.io/dockerconfigjson Secret kim-docker-config in kim's namespace, written by login
// and logout and read for builds, pulls and pushes. Internal to libkim.
#ifndef KIM_LIB_KUBE_CLUSTER_CREDENTIALS_H_
#define KIM_LIB_KUBE_CLUSTER_CREDENTIALS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kim/credentials.h"
#include "kim/installer.h"
#include "lib/kube/client.h"

namespace kim::kube {

// The credentials in Secret kim-docker-config of namespace `ns`, as a Docker config holding
// only its "auths" entries (credential helpers it might name are dropped: they would run on
// this machine). An empty config when the Secret does not exist; the API's error otherwise
// (PermissionDenied naming the RBAC rule when the user may not read Secrets there);
// InvalidArgument when the Secret does not hold a Docker config.
absl::StatusOr<DockerConfig> ReadClusterCredentials(Client& client, const std::string& ns);

// Adds or replaces the entry for options.server (empty = Docker Hub) in the Secret, creating
// it. FailedPrecondition when a Secret of that name has another type.
absl::Status StoreClusterLogin(Client& client, const std::string& ns, const LoginOptions& options);

// Removes the entry for `server` from the Secret, and the Secret when it becomes empty.
// NotFound "not logged in to SERVER" when there is no such entry.
absl::Status EraseClusterLogin(Client& client, const std::string& ns, const std::string& server);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_CLUSTER_CREDENTIALS_H_
