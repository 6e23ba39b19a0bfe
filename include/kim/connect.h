// Connect: from connection options to ready service clients, through Kubernetes discovery by
// default or through explicitly given addresses. The three factories share one options struct
// and one naming pattern: ConnectImageService, ConnectBuildService, ConnectInstaller.
#ifndef KIM_CONNECT_H_
#define KIM_CONNECT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kim/build_service.h"
#include "kim/image_service.h"
#include "kim/installer.h"
#include "kim/tls.h"

namespace kim {

// How to reach the backends. Plain data; the defaults discover the builder kim installed in
// namespace "kube-image" of the kubeconfig's current context. An explicit address wins over
// discovery for its service.
struct ConnectOptions {
  // Kubeconfig path list, like $KUBECONFIG. Default: empty = client-go's rules ($KUBECONFIG,
  // then ~/.kube/config, then in-cluster).
  std::string kubeconfig;
  // Kubeconfig context. Default: empty = its current-context.
  std::string context;
  // Namespace kim is installed in. Default: "kube-image".
  std::string namespace_name = "kube-image";
  // How to reach a discovered builder: "never" dials the node's address, "always" goes through
  // the API server (a port-forward), "auto" dials the node with a short timeout and falls back
  // to the API server, remembering per kubeconfig context what worked. Default: "auto".
  std::string tunnel = "auto";
  // Local mode: act on this containerd socket in-process. Default: empty = not local.
  std::string containerd_socket;
  // Dial this kim-agent (host:port) instead of discovering it. Default: empty = discover.
  std::string agent_addr;
  // Dial this buildkitd (unix:///path, tcp://host:port) instead of discovering it.
  // Default: empty = discover.
  std::string buildkit_addr;
  // Mutual TLS for agent_addr and buildkit_addr (PEM contents, not paths). Default: empty =
  // plaintext. A discovered builder uses the client certificate stored in the cluster instead.
  TlsMaterial tls;
};

// Returns an ImageService: in-process over containerd_socket when set, else a client of the
// kim-agent at agent_addr, else of the discovered builder's agent. InvalidArgument for unusable
// options (a certificate without its key); NotFound/Unavailable when discovery fails.
absl::StatusOr<std::unique_ptr<ImageService>> ConnectImageService(const ConnectOptions& options);

// Returns a BuildService for buildkit_addr when set, else for the discovered builder. Errors as
// for ConnectImageService.
absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuildService(const ConnectOptions& options);

// Returns an Installer for the cluster and namespace the options select (addresses and TLS
// material are not used). InvalidArgument when the kubeconfig cannot be loaded.
absl::StatusOr<std::unique_ptr<Installer>> ConnectInstaller(const ConnectOptions& options);

}  // namespace kim

#endif  // KIM_CONNECT_H_
