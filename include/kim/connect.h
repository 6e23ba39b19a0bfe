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
  // The node to act on: ConnectImageService then uses that node's kim-agent, ConnectBuildService
  // that node's builder (it must be a builder node). Default: empty = the builder node (for a
  // build, the one ChooseBuilderNode picks).
  std::string node;
  // For a build on a cluster with several builder nodes and no `node`: a key (kim uses the build
  // context's absolute path) from which ChooseBuilderNode picks the same ready builder node every
  // time, so that BuildKit's cache for that context is reused. Default: empty.
  std::string builder_key;
};

// One node's kim-agent as the cluster describes it (no connection made).
struct NodeAgent {
  std::string node;      // the node's name; empty in local mode or with an explicit agent address
  bool builder = false;  // the node runs a builder (buildkitd) too
  bool ready = false;    // its pod is ready
  // How the agents of the other nodes reach this one (its address inside the cluster), for
  // ImageService::Distribute.
  AgentTarget target;
};

// Every node kim serves, sorted by name (with `options.node`, only that one: NotFound naming
// the nodes there are when it has no agent). Discovery errors as for ConnectImageService;
// FailedPrecondition in local mode or with an explicit agent address (no cluster to ask).
absl::StatusOr<std::vector<NodeAgent>> ListNodeAgents(const ConnectOptions& options);

// One node's kim-agent, connected, as ConnectNodeImageServices returns it.
struct NodeImageService {
  NodeAgent agent;
  // Null when the node's agent cannot be used; `status` then says why (not ready, unreachable).
  std::unique_ptr<ImageService> service;
  absl::Status status;
};

// ListNodeAgents, with a client for each ready node's agent, reached as options.tunnel says.
// In local mode or with an explicit agent address, one entry with an empty node name.
absl::StatusOr<std::vector<NodeImageService>> ConnectNodeImageServices(
    const ConnectOptions& options);

// The builder node a build with `options` runs on: `options.node` when set (FailedPrecondition
// when it runs no builder), else among the ready builder nodes the one `options.builder_key`
// maps to (the first builder node when none is ready: connecting then says why). Empty when an
// explicit buildkit address is given.
absl::StatusOr<std::string> ChooseBuilderNode(const ConnectOptions& options);

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
