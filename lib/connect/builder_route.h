// How the CLI reaches a port of the discovered builder: straight to the node's address, or
// through the API server (a port-forward to the builder pod), chosen by ConnectOptions::tunnel.
// Internal to libkim.
#ifndef KIM_LIB_CONNECT_BUILDER_ROUTE_H_
#define KIM_LIB_CONNECT_BUILDER_ROUTE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kim/connect.h"
#include "lib/kube/client.h"
#include "lib/kube/installer.h"

namespace kim {

// Where to dial, and what must live as long as the connection does.
struct BuilderRoute {
  std::string address;      // host:port
  std::string server_name;  // name the server certificate carries ("builder.<ns>.svc")
  std::string hint;         // added to "cannot reach" errors
  std::shared_ptr<void> keep_alive;  // the tunnel, when there is one
};

// "host:port", with an IPv6 host in brackets.
std::string HostPort(const std::string& host, int port);

// Chooses the route to `port` of `builder`:
//   never   probes the node's address (3 s) and fails with the routing hint when it does not
//           answer;
//   always  opens the tunnel (PermissionDenied naming "pods/portforward" without the RBAC rule);
//   auto    uses the tunnel at once when it worked last time for this context and address,
//           else probes the node (1.5 s) and falls back to the tunnel; the winner is cached.
//           When both fail, one Unavailable error names both attempts.
absl::StatusOr<BuilderRoute> RouteToBuilder(const ConnectOptions& options,
                                            const std::shared_ptr<kube::Client>& client,
                                            const kube::BuilderEndpoint& builder, int port);

}  // namespace kim

#endif  // KIM_LIB_CONNECT_BUILDER_ROUTE_H_
