// The Kubernetes Installer and builder discovery. Internal to libkim; programs get an Installer
// through kim::ConnectInstaller (kim/connect.h).
#ifndef KIM_LIB_KUBE_INSTALLER_H_
#define KIM_LIB_KUBE_INSTALLER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/installer.h"
#include "kim/tls.h"
#include "lib/kube/client.h"

namespace kim::kube {

// An Installer acting through `client` on namespace `namespace_name`.
std::unique_ptr<Installer> NewKubeInstaller(std::shared_ptr<Client> client,
                                            std::string namespace_name);

// One builder node's address, from Endpoints "builder".
struct BuilderNodeAddress {
  std::string node;  // the node's name (the address's nodeName)
  std::string host;  // its address (InternalIP, else ExternalIP)
};

// Where the installed builder listens and the client certificate to talk to it.
struct BuilderEndpoint {
  std::string host;          // the FIRST builder node's address, or the endpoint-override annotation
  std::string node_name;     // the node of that address (the first builder node)
  int buildkit_port = 0;
  int agent_port = 0;
  // The client's mutual TLS: CA of the builder's server certificates, client certificate
  // and key (from Secret kim-tls-client), handed as they are to the agent and BuildKit clients.
  TlsMaterial tls;
  std::string server_name;   // "builder.<ns>.svc" (also in the server certificate)
  // Every builder node, in the Endpoints' order, with its own address (the endpoint-override
  // annotation changes `host` only).
  std::vector<BuilderNodeAddress> builders;
};

// One node's kim-agent as its pod tells it.
struct AgentEndpoint {
  std::string node;       // spec.nodeName
  std::string host;       // status.hostIP (hostNetwork: the node's address)
  int port = 0;           // the agent port (Service "builder" port "kim")
  std::string pod;        // pod name (for the tunnel)
  bool builder = false;   // true when the pod is a builder pod (buildkitd on that node)
  bool ready = false;     // pod Ready condition True
};

// Reads Service + Endpoints "builder" and Secret kim-tls-client. NotFound (`kim is not
// installed in namespace "X": run "kim system install"`) when the Service is missing;
// Unavailable when it has no endpoint yet.
absl::StatusOr<BuilderEndpoint> DiscoverBuilder(Client& client, const std::string& namespace_name);

// The name of the builder pod on node `node_name` (a ready one when there are several, e.g.
// while one is replaced), for the API-server tunnel. Unavailable when there is none.
absl::StatusOr<std::string> FindBuilderPod(Client& client, const std::string& namespace_name,
                                           const std::string& node_name);

// Every kim pod's agent (builder and agent-only pods), one per node (the ready one when a node
// has two during a rollout), sorted by node name. NotFound when kim is not installed.
absl::StatusOr<std::vector<AgentEndpoint>> DiscoverAgents(Client& client,
                                                          const std::string& namespace_name);

// The name of a kim pod (builder or agent-only) on node `node_name`, a ready one when there are
// several, for the API-server tunnel to that node's agent. Unavailable when there is none.
absl::StatusOr<std::string> FindAgentPod(Client& client, const std::string& namespace_name,
                                         const std::string& node_name);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_INSTALLER_H_
