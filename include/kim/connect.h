// Connect: from the CLI's global options to ready service clients, through Kubernetes discovery
// by default or through explicitly given addresses.
#ifndef KIM_CONNECT_H_
#define KIM_CONNECT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kim/build_service.h"
#include "kim/image_service.h"
#include "kim/installer.h"

namespace kim {

// How to reach the backends. Explicit addresses win over Kubernetes discovery.
struct ConnectOptions {
  std::string kubeconfig;         // path list like $KUBECONFIG; empty = client-go defaults
  std::string context;            // kubeconfig context; empty = current-context
  std::string namespace_name = "kube-image";
  // How to reach a discovered builder: "never" dials the node's address, "always" goes through
  // the API server (a port-forward), "auto" dials the node with a short timeout and falls back
  // to the API server, remembering per kubeconfig context what worked.
  std::string tunnel = "auto";
  std::string containerd_socket;  // act on this containerd directly (local mode)
  std::string agent_addr;         // dial this kim-agent instead of discovering it
  std::string buildkit_addr;      // dial this buildkitd instead of discovering it
  std::string tls_ca_cert;        // CA that signed the servers' certificates
  std::string tls_cert;           // client certificate
  std::string tls_key;            // client key
};

// Returns an ImageService: in-process over containerd_socket when set, else a kim-agent client.
absl::StatusOr<std::unique_ptr<ImageService>> ConnectImageService(const ConnectOptions& options);

// Returns a BuildService for buildkit_addr when set, else for the discovered builder.
absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuildService(const ConnectOptions& options);

// Returns an Installer for the cluster and namespace the options select.
absl::StatusOr<std::unique_ptr<Installer>> NewInstaller(const ConnectOptions& options);

}  // namespace kim

#endif  // KIM_CONNECT_H_
