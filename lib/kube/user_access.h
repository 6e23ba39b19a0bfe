// The RBAC for kim's users: the Role `kim-user` (in kim's namespace) and the ClusterRole
// `kim-user` (node reads) that `kim system install` creates, with exactly what `kim build`,
// the image commands, the API-server tunnel and `kim system info` ask the API server for; and
// the hint that turns a 403 into the binding a cluster admin should make. Internal to libkim.
#ifndef KIM_LIB_KUBE_USER_ACCESS_H_
#define KIM_LIB_KUBE_USER_ACCESS_H_

#include <string>

#include "absl/status/status.h"
#include "lib/kube/client.h"

namespace kim::kube {

// The name of both the Role and the ClusterRole.
inline constexpr char kUserRoleName[] = "kim-user";

// The Role `kim-user` in `ns`: get the builder's Service, Endpoints and DaemonSets (builder and
// agent-<flavour>, for kim system info), get the
// client-certificate Secret and the registry-login Secret (by name: never the CA key or the
// server key), list pods (to find the builder pod), and get+create pods/portforward (the
// tunnel; Kubernetes before 1.31 authorizes the WebSocket as "get", later ones as "create").
Json UserRoleObject(const std::string& ns);

// The ClusterRole `kim-user`: list nodes (kim system info shows the builder nodes).
Json UserClusterRoleObject();

// Which binding a PermissionDenied error calls for.
enum class UserScope { kNamespace, kCluster };

// `status` unchanged unless it is PermissionDenied; then its message gains what a cluster admin
// runs to grant the user kim-user (a `kubectl create rolebinding` in `ns`, or a
// `kubectl create clusterrolebinding` for UserScope::kCluster), naming the user the API server
// refused when the message says (`forbidden for user "U"`).
absl::Status WithUserRoleHint(const absl::Status& status, const std::string& ns,
                              UserScope scope = UserScope::kNamespace);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_USER_ACCESS_H_
