// Installer: puts kim's builder backend (BuildKit + kim-agent) into a Kubernetes cluster and takes
// it out again; also manages the registry credentials the builder uses.
#ifndef KIM_INSTALLER_H_
#define KIM_INSTALLER_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kim {

// Options for Installer::Install; each field is a `kim system install` flag.
struct InstallOptions {
  bool force = false;              // delete and recreate what exists
  std::string selector;            // label query choosing the builder nodes; empty = the only node
  bool no_wait = false;            // do not wait for the builder to become ready
  bool no_fail = false;            // warn instead of failing when parts exist already
  std::string endpoint_addr;       // address clients dial instead of the node IP
  std::string agent_image;         // empty = the kim-agent image of this version
  int agent_port = 1233;
  std::string buildkit_image;      // empty = the pinned BuildKit release
  int buildkit_port = 1234;
  std::string buildkit_socket = "unix:///run/buildkit/buildkitd.sock";
  std::string containerd_socket;   // empty = detected from the node's runtime
  std::string containerd_volume;   // empty = detected from the node's runtime
  absl::Duration timeout = absl::Minutes(5);
  // Receives one line per step and, while waiting, a progress line on every change (no
  // newline). Null = silent.
  std::function<void(std::string_view)> progress;
};

// Options for Installer::Uninstall.
struct UninstallOptions {
  bool force = false;    // delete the namespace even if kim did not create it
  bool no_wait = false;  // delete, but do not wait until the objects are gone
  // How long to wait for everything to be gone; then fail naming what holds it.
  absl::Duration timeout = absl::Minutes(5);
  std::function<void(std::string_view)> progress;
};

// One node kim serves, as `kim system info` shows it.
struct NodeStatus {
  std::string name;
  std::string role;             // "builder" (buildkitd and the agent) or "agent" (the agent alone)
  std::string runtime;          // status.nodeInfo.containerRuntimeVersion, e.g. "containerd://2.1.5-k3s1"
  std::string kubelet_version;  // status.nodeInfo.kubeletVersion
  std::string agent_version;    // image tag of its agent container
  bool ready = false;           // its kim pod (current template) is Ready
  std::string message;          // why not ready, when known (pod waiting reason)
};

// What `kim system info` shows.
struct BuilderInfo {
  std::string namespace_name;
  std::vector<std::string> nodes;  // builder node names
  std::string buildkit_image;
  std::string agent_image;
  int desired = 0;                 // builder nodes, each of which should run a builder pod
  int ready = 0;                   // of them, those whose pod (current template) is ready
  std::string buildkit_endpoint;   // host:port
  std::string agent_endpoint;      // host:port
  std::string buildkit_version;    // the image tags as installed
  std::string agent_version;
  absl::Time certificate_expiry = absl::InfinitePast();
  std::vector<NodeStatus> node_status;  // every node kim serves, by name
};

// Credentials stored for the builder by `kim system login`.
struct LoginOptions {
  std::string server;    // registry host; empty = Docker Hub
  std::string username;
  std::string password;
};

// Manages kim's objects in one namespace of one cluster. Thread-compatible.
//
// Install creates, in the namespace (default kube-image): the Namespace (labelled
// app.kubernetes.io/managed-by=kim when kim creates it), the ServiceAccount "builder" (no token
// automount), the Secrets kim-tls-ca (CA certificate and key: never mounted by any pod),
// kim-tls-server (mounted by kim's pods) and kim-tls-client (read by the CLI), the headless
// Service "builder" with Endpoints that kim writes (every builder node's address), the DaemonSet
// "builder" on the builder nodes and, for every other containerd node, an agent-only DaemonSet
// "agent-<flavour>" per containerd layout; it labels the builder nodes
// node-role.kubernetes.io/builder=true and every served node kim.rancher.io/runtime=<flavour>.
// Running it again changes nothing unless something differs (then only that is updated; server
// certificates are renewed when the nodes' addresses change or expiry is within 30 days).
class Installer {
 public:
  virtual ~Installer() = default;

  // Creates (or, with force, recreates) the builder and the agents and, unless no_wait, waits
  // until kim's pod is ready on every builder node and every Ready agent node; fails early when
  // a pod is stuck (image pull, crash loop...).
  virtual absl::Status Install(const InstallOptions& options) = 0;

  // Removes everything Install created, node labels first, and (unless no_wait) waits until
  // it is gone; at the timeout fails naming what holds it.
  virtual absl::Status Uninstall(const UninstallOptions& options) = 0;

  // Describes the installed builder; NotFound when none is installed.
  virtual absl::StatusOr<BuilderInfo> Info() = 0;

  // Stores registry credentials for the builder's pulls and pushes.
  virtual absl::Status Login(const LoginOptions& options) = 0;

  // Forgets the credentials stored for `server` (empty = Docker Hub).
  virtual absl::Status Logout(const std::string& server) = 0;
};

}  // namespace kim

#endif  // KIM_INSTALLER_H_
