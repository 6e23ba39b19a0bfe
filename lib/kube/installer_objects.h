// The Kubernetes objects `kim system install` creates, built as JSON from the install options.
// Pure functions, so that their shape is unit-tested. Internal to libkim.
#ifndef KIM_LIB_KUBE_INSTALLER_OBJECTS_H_
#define KIM_LIB_KUBE_INSTALLER_OBJECTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"
#include "lib/kube/installer.h"

namespace kim::kube {

// Where buildkitd keeps its state, and its TMPDIR inside it: the temporary mounts it hands to
// step containers (secrets, SSH sockets) must propagate to the node, and this is the one
// node directory besides containerd's root that the pod shares with propagation.
inline constexpr char kBuildkitStateDir[] = "/var/lib/buildkit";
inline constexpr char kBuildkitTmpDir[] = "/var/lib/buildkit/tmp";
// buildkitd's sockets: its own and the OpenTelemetry socket it binds into every step's
// container (the node's shim resolves that path on the node).
inline constexpr char kBuildkitRunDir[] = "/run/buildkit";
// containerd's client library creates a task's stdio FIFOs here (its DefaultFIFODir, also on
// k3s), and the node's containerd shim opens them: buildkitd needs it, shared with the node.
inline constexpr char kContainerdFifoDir[] = "/run/containerd/fifo";

// Names and labels shared by the installer, discovery and the tests.
inline constexpr char kBuilderName[] = "builder";  // Service, Endpoints, DaemonSet, SA
inline constexpr char kCaSecret[] = "kim-tls-ca";          // CA cert + key; never mounted
inline constexpr char kServerSecret[] = "kim-tls-server";  // mounted by the pod
inline constexpr char kClientSecret[] = "kim-tls-client";  // read by the CLI
inline constexpr char kDockerConfigSecret[] = "kim-docker-config";
inline constexpr char kBuilderNodeLabel[] = "node-role.kubernetes.io/builder";
// On every node kim serves: the containerd layout (flavour) its agent uses; the agent-only
// DaemonSets select their nodes by it.
inline constexpr char kRuntimeNodeLabel[] = "kim.rancher.io/runtime";
inline constexpr char kNameLabel[] = "app.kubernetes.io/name";
inline constexpr char kComponentLabel[] = "app.kubernetes.io/component";
// The agent-only DaemonSets are named this and a flavour: agent-containerd, agent-k3s,
// agent-custom (every flavour kim writes, so that RBAC can name them).
inline constexpr char kAgentDaemonSetPrefix[] = "agent-";
inline constexpr const char* kRuntimeFlavours[] = {"containerd", "k3s", "custom"};
inline constexpr char kManagedByLabel[] = "app.kubernetes.io/managed-by";
inline constexpr char kEndpointOverrideAnnotation[] = "images.cattle.io/endpoint-override";
inline constexpr char kSpecHashAnnotation[] = "kim.rancher.io/spec-hash";
inline constexpr char kTlsChecksumAnnotation[] = "kim.rancher.io/tls-checksum";
inline constexpr char kBuildkitPortName[] = "buildkit";
inline constexpr char kAgentPortName[] = "kim";
inline constexpr char kDefaultAgentRepository[] = "docker.io/rancher/kim-agent";

// Where the node's containerd lives.
struct RuntimePaths {
  std::string flavour;  // "k3s", "containerd", or "custom" (from --containerd-socket/-volume)
  std::string socket;   // /run/k3s/containerd/containerd.sock
  std::string volume;   // containerd's root: /var/lib/rancher/k3s/agent/containerd
};

// From a node's status.nodeInfo.containerRuntimeVersion ("containerd://1.7.21-k3s1"): k3s paths
// for a k3s containerd, stock paths for any other containerd, FailedPrecondition
// ("container runtime \"docker\" of node N is not supported ...") otherwise.
absl::StatusOr<RuntimePaths> DetectRuntime(const std::string& node,
                                           const std::string& container_runtime_version);

// Everything the builder's objects depend on.
struct BuilderSpec {
  std::string namespace_name = "kube-image";
  std::string agent_image;
  std::string buildkit_image;
  int agent_port = 1233;
  int buildkit_port = 1234;
  std::string buildkit_socket = "unix:///run/buildkit/buildkitd.sock";
  std::string containerd_socket;
  std::string containerd_volume;
  std::string endpoint_addr;   // annotation on the Service when set
  std::vector<BuilderNodeAddress> builders;  // every builder node and its address (Endpoints)
  std::string tls_checksum;    // of the server Secret: a renewal rolls the pods
};

// The labels every object kim creates carries.
Json ManagedLabels();

Json NamespaceObject(const std::string& name);
// metadata {name, namespace (when not empty), labels}.
Json ObjectMetadata(const std::string& name, const std::string& ns, Json labels = ManagedLabels());
// The labels that select the builder's pods.
Json BuilderSelectorLabels();
// The labels that select the pods of the agent-only DaemonSet of `flavour`.
Json AgentSelectorLabels(const std::string& flavour);
// "agent-<flavour>": the agent-only DaemonSet of that containerd layout.
std::string AgentDaemonSetName(const std::string& flavour);
Json ServiceAccountObject(const BuilderSpec& spec);
// Headless and selector-less: kim writes its Endpoints itself (the builder runs with
// hostNetwork, so the endpoint is the node's address and needs no controller).
Json ServiceObject(const BuilderSpec& spec);
// One address per builder node, with its nodeName, in spec.builders' order.
Json EndpointsObject(const BuilderSpec& spec);
// The builder DaemonSet (lib/kube/builder_pod.cc): buildkitd and kim-agent, hostNetwork but not
// hostPID; each container mounts only the node paths it needs (docs/security.md lists them).
Json DaemonSetObject(const BuilderSpec& spec);
// The agent-only DaemonSet "agent-<runtime.flavour>": the builder pod's agent container alone,
// on the nodes labelled kim.rancher.io/runtime=<flavour> that are not builder nodes (a required
// node affinity: node-role.kubernetes.io/builder DoesNotExist), with runtime.socket mounted.
Json AgentDaemonSetObject(const BuilderSpec& spec, const RuntimePaths& runtime);
// A kubernetes.io/tls Secret (tls.crt, tls.key and, when ca_pem is set, ca.crt).
Json TlsSecretObject(const std::string& name, const std::string& namespace_name,
                     const std::string& cert_pem, const std::string& key_pem,
                     const std::string& ca_pem);


// A stable hash (hex sha256) of a JSON value's serialization.
std::string HashJson(const Json& value);

// The `auths` key Docker uses for a registry: Docker Hub spellings (and "") →
// "https://index.docker.io/v1/", otherwise host[:port] without scheme or path.
std::string RegistryKey(const std::string& server);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_INSTALLER_OBJECTS_H_
