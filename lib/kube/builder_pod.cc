// kim's DaemonSets. "builder": buildkitd with the node's containerd worker, and kim-agent;
// "agent-<flavour>": kim-agent alone, on every other node of that containerd layout. Each
// container mounts only the node paths it needs (docs/security.md says why each one):
//   agent:     the containerd socket, read-only (connecting needs no write access).
//   buildkitd: the containerd socket; containerd's FIFO directory (task stdio); its own run
//              directory (its sockets: the OpenTelemetry one is bound into steps); containerd's
//              root (snapshots it mounts) and its own state dir, both Bidirectional (the
//              mounts it makes there must reach the node's containerd shims); the host cgroup
//              tree read-only.
// The pod does not share the node's PID namespace: only the init container reaches the node's
// mount namespace, through /proc/1/ns/mnt of the node's /proc, to make those two directories
// rshared (nodes that run in a container, such as k3s in docker, start them private).
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/json_build.h"

namespace kim::kube {
namespace {

using namespace json;  // NOLINT: the builders are this file's vocabulary

constexpr char kHostProc[] = "/host/proc";

Json Resources(const std::string& cpu, const std::string& memory) {
  return Obj({{"requests", Obj({{"cpu", Str(cpu)}, {"memory", Str(memory)}})}});
}

Json Mount(const std::string& name, const std::string& path, bool read_only = false,
           const std::string& propagation = "") {
  Fields fields{{"name", Str(name)}, {"mountPath", Str(path)}};
  if (read_only) fields.push_back({"readOnly", Json::boolean(true)});
  if (!propagation.empty()) fields.push_back({"mountPropagation", Str(propagation)});
  return Obj(std::move(fields));
}

Json HostVolume(const std::string& name, const std::string& path, const std::string& type) {
  return Obj({{"name", Str(name)}, {"hostPath", Obj({{"path", Str(path)}, {"type", Str(type)}})}});
}

std::string SocketPath(const std::string& address) {
  return absl::StartsWith(address, "unix://") ? address.substr(7) : address;
}

Json Privileged() { return Obj({{"privileged", Json::boolean(true)}}); }

// Makes the node's buildkit state dir and containerd root rshared (buildkitd's Bidirectional
// mounts need that where the node runs in a container; a no-op elsewhere), and creates
// buildkitd's TMPDIR.
Json RsharedInit(const BuilderSpec& spec) {
  const std::string enter = absl::StrCat("nsenter --mount=", kHostProc, "/1/ns/mnt --");
  const std::string script = absl::StrCat(
      "mkdir -p -m 0700 ", kBuildkitTmpDir, " && for d in $RSHARED_DIRS; do if ", enter,
      " mountpoint -q \"$d\"; then ", enter, " mount --make-rshared \"$d\" || true; fi; done");
  return Obj({{"name", Str("rshared-mounts")},
              {"image", Str(spec.buildkit_image)},
              {"command", Strs({"sh", "-c", script})},
              {"env", Arr({Obj({{"name", Str("RSHARED_DIRS")},
                                {"value", Str(absl::StrCat(kBuildkitStateDir, " ",
                                                           spec.containerd_volume))}})})},
              {"securityContext", Privileged()},
              {"resources", Resources("10m", "16Mi")},
              {"volumeMounts", Arr({Mount("host-proc", kHostProc, true),
                                    Mount("buildkit-state", kBuildkitStateDir)})}});
}

Json BuildkitdContainer(const BuilderSpec& spec) {
  const std::string containerd_socket = SocketPath(spec.containerd_socket);
  // TCP probes, not `buildctl debug workers` in the container: buildkitd opens its TCP listener
  // once its workers are up, a probe then costs no process in the pod every few seconds, and it
  // works where exec into containers does not (a node whose runtime cannot exec).
  const Json port = Obj({{"port", Num(spec.buildkit_port)}});
  return Obj(
      {{"name", Str("buildkitd")},
       {"image", Str(spec.buildkit_image)},
       {"args", Strs({absl::StrCat("--addr=", spec.buildkit_socket),
                      absl::StrCat("--addr=tcp://0.0.0.0:", spec.buildkit_port),
                      "--containerd-worker=true",
                      absl::StrCat("--containerd-worker-addr=", containerd_socket),
                      "--containerd-worker-namespace=k8s.io", "--containerd-worker-gc",
                      "--oci-worker=false", "--tlscacert=/certs/ca.crt",
                      "--tlscert=/certs/tls.crt", "--tlskey=/certs/tls.key"})},
       // Secrets, SSH sockets and snapshot mounts go under TMPDIR: here, beneath the
       // Bidirectional state dir, instead of the node's whole /tmp.
       {"env", Arr({Obj({{"name", Str("TMPDIR")}, {"value", Str(kBuildkitTmpDir)}})})},
       {"ports", Arr({Obj({{"name", Str(kBuildkitPortName)},
                           {"containerPort", Num(spec.buildkit_port)},
                           {"protocol", Str("TCP")}})})},
       {"securityContext", Privileged()},
       {"resources", Resources("100m", "256Mi")},
       {"readinessProbe", Obj({{"tcpSocket", port},
                               {"initialDelaySeconds", Num(2)},
                               {"periodSeconds", Num(5)},
                               {"timeoutSeconds", Num(5)}})},
       {"livenessProbe", Obj({{"tcpSocket", port},
                              {"initialDelaySeconds", Num(30)},
                              {"periodSeconds", Num(20)},
                              {"timeoutSeconds", Num(5)},
                              {"failureThreshold", Num(3)}})},
       {"volumeMounts",
        Arr({Mount("host-cgroup", "/sys/fs/cgroup", true),
             Mount("containerd-socket", containerd_socket),
             Mount("containerd-fifo", kContainerdFifoDir),
             Mount("buildkit-run", kBuildkitRunDir),
             Mount("buildkit-state", kBuildkitStateDir, false, "Bidirectional"),
             Mount("containerd-root", spec.containerd_volume, false, "Bidirectional"),
             Mount("certs", "/certs", true)})}});
}

// kim-agent on the containerd at `socket` (the same container in builder and agent-only pods).
Json AgentContainer(const BuilderSpec& spec, const std::string& socket) {
  const std::string containerd_socket = SocketPath(socket);
  const Json port = Obj({{"port", Num(spec.agent_port)}});
  return Obj(
      {{"name", Str("agent")},
       {"image", Str(spec.agent_image)},
       {"command", Strs({"kim-agent"})},
       {"args", Strs({absl::StrCat("--listen=0.0.0.0:", spec.agent_port),
                      absl::StrCat("--containerd-socket=", containerd_socket),
                      "--tlscacert=/certs/ca.crt", "--tlscert=/certs/tls.crt",
                      "--tlskey=/certs/tls.key"})},
       {"ports", Arr({Obj({{"name", Str(kAgentPortName)},
                           {"containerPort", Num(spec.agent_port)},
                           {"protocol", Str("TCP")}})})},
       {"resources", Resources("50m", "64Mi")},
       {"readinessProbe", Obj({{"tcpSocket", port},
                               {"initialDelaySeconds", Num(2)},
                               {"periodSeconds", Num(10)}})},
       {"livenessProbe", Obj({{"tcpSocket", port},
                              {"initialDelaySeconds", Num(10)},
                              {"periodSeconds", Num(20)},
                              {"failureThreshold", Num(3)}})},
       {"volumeMounts", Arr({Mount("containerd-socket", containerd_socket, true),
                             Mount("certs", "/certs", true)})}});
}

Json CertsVolume() {
  return Obj({{"name", Str("certs")},
              {"secret", Obj({{"secretName", Str(kServerSecret)}, {"defaultMode", Num(0400)}})}});
}

Json PodVolumes(const BuilderSpec& spec) {
  return Arr({HostVolume("host-proc", "/proc", "Directory"),
              HostVolume("host-cgroup", "/sys/fs/cgroup", "Directory"),
              HostVolume("containerd-socket", SocketPath(spec.containerd_socket), "Socket"),
              HostVolume("containerd-fifo", kContainerdFifoDir, "DirectoryOrCreate"),
              HostVolume("buildkit-run", kBuildkitRunDir, "DirectoryOrCreate"),
              HostVolume("buildkit-state", kBuildkitStateDir, "DirectoryOrCreate"),
              HostVolume("containerd-root", spec.containerd_volume, "DirectoryOrCreate"),
              CertsVolume()});
}

Json Tolerations() {
  return Arr({Obj({{"key", Str("node-role.kubernetes.io/control-plane")},
                   {"operator", Str("Exists")},
                   {"effect", Str("NoSchedule")}}),
              Obj({{"key", Str("node-role.kubernetes.io/master")},
                   {"operator", Str("Exists")},
                   {"effect", Str("NoSchedule")}}),
              Obj({{"key", Str("CriticalAddonsOnly")}, {"operator", Str("Exists")}})});
}

// What every kim pod shares: the service account without a token, the node's network, the
// tolerations; `placement` adds nodeSelector (and affinity) to it.
Fields PodBasics(Fields placement) {
  Fields fields{{"serviceAccountName", Str(kBuilderName)},
                {"automountServiceAccountToken", Json::boolean(false)},
                {"hostNetwork", Json::boolean(true)},
                {"dnsPolicy", Str("ClusterFirstWithHostNet")}};
  for (auto& field : placement) fields.push_back(std::move(field));
  fields.push_back({"tolerations", Tolerations()});
  return fields;
}

// A DaemonSet `name` of pods labelled `pod_labels` (also its selector) with `pod_spec`; the
// template carries the server certificate's checksum, so that a renewal rolls its pods.
Json KimDaemonSet(const BuilderSpec& spec, const std::string& name, Json object_labels,
                  Json pod_labels, Json pod_spec) {
  Json template_labels = pod_labels;
  template_labels[kManagedByLabel] = Str("kim");
  Json template_metadata =
      Obj({{"labels", std::move(template_labels)},
           {"annotations", Obj({{kTlsChecksumAnnotation, Str(spec.tls_checksum)}})}});
  Json ds_spec = Obj({{"selector", Obj({{"matchLabels", std::move(pod_labels)}})},
                      {"updateStrategy", Obj({{"type", Str("RollingUpdate")}})},
                      {"template", Obj({{"metadata", std::move(template_metadata)},
                                        {"spec", std::move(pod_spec)}})}});
  return Obj({{"metadata", ObjectMetadata(name, spec.namespace_name, std::move(object_labels))},
              {"spec", std::move(ds_spec)}});
}

}  // namespace

Json DaemonSetObject(const BuilderSpec& spec) {
  Fields pod = PodBasics({{"nodeSelector", Obj({{kBuilderNodeLabel, Str("true")}})}});
  pod.push_back({"initContainers", Arr({RsharedInit(spec)})});
  pod.push_back({"containers", Arr({BuildkitdContainer(spec),
                                    AgentContainer(spec, spec.containerd_socket)})});
  pod.push_back({"volumes", PodVolumes(spec)});
  return KimDaemonSet(spec, kBuilderName, ManagedLabels(), BuilderSelectorLabels(),
                      Obj(std::move(pod)));
}

Json AgentDaemonSetObject(const BuilderSpec& spec, const RuntimePaths& runtime) {
  // Builder nodes carry the runtime label too, but their builder pod has the agent already.
  const Json not_a_builder = Obj(
      {{"requiredDuringSchedulingIgnoredDuringExecution",
        Obj({{"nodeSelectorTerms",
              Arr({Obj({{"matchExpressions",
                         Arr({Obj({{"key", Str(kBuilderNodeLabel)},
                                   {"operator", Str("DoesNotExist")}})})}})})}})}});
  Fields pod = PodBasics({{"nodeSelector", Obj({{kRuntimeNodeLabel, Str(runtime.flavour)}})},
                          {"affinity", Obj({{"nodeAffinity", not_a_builder}})}});
  pod.push_back({"containers", Arr({AgentContainer(spec, runtime.socket)})});
  pod.push_back({"volumes", Arr({HostVolume("containerd-socket", SocketPath(runtime.socket), "Socket"),
                                 CertsVolume()})});
  Json labels = Obj({{kNameLabel, Str("kim")}, {kComponentLabel, Str("agent")},
                     {kManagedByLabel, Str("kim")}});
  return KimDaemonSet(spec, AgentDaemonSetName(runtime.flavour), std::move(labels),
                      AgentSelectorLabels(runtime.flavour), Obj(std::move(pod)));
}

}  // namespace kim::kube
