// The Kubernetes Installer and builder discovery. Internal to libkim; programs get an Installer
// through kim::ConnectInstaller (kim/connect.h).
#ifndef KIM_LIB_KUBE_INSTALLER_H_
#define KIM_LIB_KUBE_INSTALLER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kim/installer.h"
#include "kim/tls.h"
#include "lib/kube/client.h"

namespace kim::kube {

// An Installer acting through `client` on namespace `namespace_name`.
std::unique_ptr<Installer> NewKubeInstaller(std::shared_ptr<Client> client,
                                            std::string namespace_name);

// Where the installed builder listens and the client certificate to talk to it.
struct BuilderEndpoint {
  std::string host;          // node address, or the endpoint-override annotation
  std::string node_name;     // the node of that address
  int buildkit_port = 0;
  int agent_port = 0;
  // The client's mutual TLS: CA of the builder's server certificates, client certificate
  // and key (from Secret kim-tls-client), handed as they are to the agent and BuildKit clients.
  TlsMaterial tls;
  std::string server_name;   // "builder.<ns>.svc" (also in the server certificate)
};

// Reads Service + Endpoints "builder" and Secret kim-tls-client. NotFound (`kim is not
// installed in namespace "X": run "kim system install"`) when the Service is missing;
// Unavailable when it has no endpoint yet.
absl::StatusOr<BuilderEndpoint> DiscoverBuilder(Client& client, const std::string& namespace_name);

// The name of the builder pod on node `node_name` (a ready one when there are several, e.g.
// while one is replaced), for the API-server tunnel. Unavailable when there is none.
absl::StatusOr<std::string> FindBuilderPod(Client& client, const std::string& namespace_name,
                                           const std::string& node_name);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_INSTALLER_H_
