// The builder's Kubernetes objects as JSON.
#include "lib/kube/installer_objects.h"

#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kim::kube {
namespace {

using Fields = std::vector<std::pair<std::string, Json>>;

Json Obj(Fields fields) {
  Json out = Json::object(true);  // keep insertion order: stable hashes and readable output
  for (auto& [key, value] : fields) out[key] = std::move(value);
  return out;
}
Json Str(const std::string& s) { return Json::string(s); }
Json Num(int n) { return Json::number(n); }
Json Arr(std::vector<Json> items) { return Json::array(std::move(items)); }
Json Strs(const std::vector<std::string>& items) {
  std::vector<Json> out;
  for (const auto& item : items) out.push_back(Str(item));
  return Arr(std::move(out));
}

Json SelectorLabels() {
  return Obj({{"app.kubernetes.io/name", Str("kim")},
              {"app.kubernetes.io/component", Str("builder")}});
}

Json Metadata(const std::string& name, const std::string& ns, Json labels = ManagedLabels()) {
  Fields fields{{"name", Str(name)}};
  if (!ns.empty()) fields.push_back({"namespace", Str(ns)});
  fields.push_back({"labels", std::move(labels)});
  return Obj(std::move(fields));
}

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

}  // namespace

Json ManagedLabels() {
  return Obj({{"app.kubernetes.io/name", Str("kim")},
              {"app.kubernetes.io/component", Str("builder")},
              {kManagedByLabel, Str("kim")}});
}

absl::StatusOr<RuntimePaths> DetectRuntime(const std::string& node,
                                           const std::string& version) {
  const size_t scheme_end = version.find("://");
  const std::string scheme = scheme_end == std::string::npos ? version : version.substr(0, scheme_end);
  if (scheme == "containerd") {
    if (version.find("-k3s") != std::string::npos) {
      return RuntimePaths{"k3s", "/run/k3s/containerd/containerd.sock", "/var/lib/rancher"};
    }
    return RuntimePaths{"containerd", "/run/containerd/containerd.sock", "/var/lib/containerd"};
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "container runtime \"", scheme.empty() ? "(none reported)" : scheme, "\" of node \"", node,
      "\" is not supported: kim needs containerd (set --containerd-socket and "
      "--containerd-volume if the node's containerd is not where the runtime version says)"));
}

Json NamespaceObject(const std::string& name) {
  return Obj({{"metadata", Obj({{"name", Str(name)},
                                {"labels", Obj({{kManagedByLabel, Str("kim")}})}})}});
}

Json ServiceAccountObject(const BuilderSpec& spec) {
  return Obj({{"metadata", Metadata(kBuilderName, spec.namespace_name)},
              {"automountServiceAccountToken", Json::boolean(false)}});
}

Json ServiceObject(const BuilderSpec& spec) {
  Json metadata = Metadata(kBuilderName, spec.namespace_name);
  if (!spec.endpoint_addr.empty()) {
    metadata["annotations"] = Obj({{kEndpointOverrideAnnotation, Str(spec.endpoint_addr)}});
  }
  return Obj(
      {{"metadata", metadata},
       {"spec", Obj({{"clusterIP", Str("None")},
                     {"ports", Arr({Obj({{"name", Str(kBuildkitPortName)},
                                         {"port", Num(spec.buildkit_port)},
                                         {"targetPort", Num(spec.buildkit_port)},
                                         {"protocol", Str("TCP")}}),
                                    Obj({{"name", Str(kAgentPortName)},
                                         {"port", Num(spec.agent_port)},
                                         {"targetPort", Num(spec.agent_port)},
                                         {"protocol", Str("TCP")}})})}})}});
}

Json EndpointsObject(const BuilderSpec& spec) {
  return Obj(
      {{"metadata", Metadata(kBuilderName, spec.namespace_name)},
       {"subsets",
        Arr({Obj({{"addresses", Arr({Obj({{"ip", Str(spec.node_address)},
                                           {"nodeName", Str(spec.node_name)}})})},
                  {"ports", Arr({Obj({{"name", Str(kBuildkitPortName)},
                                      {"port", Num(spec.buildkit_port)},
                                      {"protocol", Str("TCP")}}),
                                 Obj({{"name", Str(kAgentPortName)},
                                      {"port", Num(spec.agent_port)},
                                      {"protocol", Str("TCP")}})})}})})}});
}

Json DaemonSetObject(const BuilderSpec& spec) {
  const std::string buildkit_socket = spec.buildkit_socket;
  const Json privileged = Obj({{"privileged", Json::boolean(true)}});
  // Make the host's mounts rshared so that buildkitd's bidirectional mounts work when the node
  // itself runs in a container (k3s in docker); harmless elsewhere.
  const std::string rshared_script =
      "for d in $RSHARED_DIRS; do "
      "if nsenter -m -t 1 -- mountpoint -q \"$d\"; then "
      "nsenter -m -t 1 -- mount --make-rshared \"$d\" || true; fi; done";
  Json init = Obj({{"name", Str("rshared-mounts")},
                   {"image", Str(spec.buildkit_image)},
                   {"command", Strs({"sh", "-c", rshared_script})},
                   {"env", Arr({Obj({{"name", Str("RSHARED_DIRS")},
                                     {"value", Str(absl::StrCat("/tmp /var/lib/buildkit ",
                                                                spec.containerd_volume))}})})},
                   {"securityContext", privileged},
                   {"resources", Resources("10m", "16Mi")}});
  // TCP probes, not `buildctl debug workers` in the container: buildkitd opens its TCP listener
  // once its workers are up, a probe then costs no process in the pod every few seconds, and it
  // works where exec into containers does not (a node whose runtime cannot exec).
  const Json buildkit_port = Obj({{"port", Num(spec.buildkit_port)}});
  Json buildkitd = Obj(
      {{"name", Str("buildkitd")},
       {"image", Str(spec.buildkit_image)},
       {"args", Strs({absl::StrCat("--addr=", buildkit_socket),
                      absl::StrCat("--addr=tcp://0.0.0.0:", spec.buildkit_port),
                      "--containerd-worker=true",
                      absl::StrCat("--containerd-worker-addr=", SocketPath(spec.containerd_socket)),
                      "--containerd-worker-namespace=k8s.io", "--containerd-worker-gc",
                      "--oci-worker=false", "--tlscacert=/certs/ca.crt",
                      "--tlscert=/certs/tls.crt", "--tlskey=/certs/tls.key"})},
       {"ports", Arr({Obj({{"name", Str(kBuildkitPortName)},
                           {"containerPort", Num(spec.buildkit_port)},
                           {"protocol", Str("TCP")}})})},
       {"securityContext", privileged},
       {"resources", Resources("100m", "256Mi")},
       {"readinessProbe", Obj({{"tcpSocket", buildkit_port},
                               {"initialDelaySeconds", Num(2)},
                               {"periodSeconds", Num(5)},
                               {"timeoutSeconds", Num(5)}})},
       {"livenessProbe", Obj({{"tcpSocket", buildkit_port},
                              {"initialDelaySeconds", Num(30)},
                              {"periodSeconds", Num(20)},
                              {"timeoutSeconds", Num(5)},
                              {"failureThreshold", Num(3)}})},
       {"volumeMounts", Arr({Mount("host-cgroup", "/sys/fs/cgroup"), Mount("host-run", "/run"),
                             Mount("host-tmp", "/tmp", false, "Bidirectional"),
                             Mount("host-var-lib-buildkit", "/var/lib/buildkit", false,
                                   "Bidirectional"),
                             Mount("host-containerd", spec.containerd_volume, false,
                                   "Bidirectional"),
                             Mount("certs", "/certs", true)})}});
  Json agent = Obj(
      {{"name", Str("agent")},
       {"image", Str(spec.agent_image)},
       {"command", Strs({"kim-agent"})},
       {"args", Strs({absl::StrCat("--listen=0.0.0.0:", spec.agent_port),
                      absl::StrCat("--containerd-socket=", SocketPath(spec.containerd_socket)),
                      "--tlscacert=/certs/ca.crt", "--tlscert=/certs/tls.crt",
                      "--tlskey=/certs/tls.key"})},
       {"ports", Arr({Obj({{"name", Str(kAgentPortName)},
                           {"containerPort", Num(spec.agent_port)},
                           {"protocol", Str("TCP")}})})},
       {"resources", Resources("50m", "64Mi")},
       {"readinessProbe", Obj({{"tcpSocket", Obj({{"port", Num(spec.agent_port)}})},
                               {"initialDelaySeconds", Num(2)},
                               {"periodSeconds", Num(10)}})},
       {"livenessProbe", Obj({{"tcpSocket", Obj({{"port", Num(spec.agent_port)}})},
                              {"initialDelaySeconds", Num(10)},
                              {"periodSeconds", Num(20)},
                              {"failureThreshold", Num(3)}})},
       {"volumeMounts", Arr({Mount("host-run", "/run", false, "HostToContainer"),
                             Mount("certs", "/certs", true)})}});
  Json pod_labels = ManagedLabels();
  Json pod_spec = Obj(
      {{"serviceAccountName", Str(kBuilderName)},
       {"automountServiceAccountToken", Json::boolean(false)},
       {"hostNetwork", Json::boolean(true)},
       {"hostPID", Json::boolean(true)},
       {"dnsPolicy", Str("ClusterFirstWithHostNet")},
       {"nodeSelector", Obj({{kBuilderNodeLabel, Str("true")}})},
       {"tolerations", Arr({Obj({{"key", Str("node-role.kubernetes.io/control-plane")},
                                 {"operator", Str("Exists")},
                                 {"effect", Str("NoSchedule")}}),
                            Obj({{"key", Str("node-role.kubernetes.io/master")},
                                 {"operator", Str("Exists")},
                                 {"effect", Str("NoSchedule")}}),
                            Obj({{"key", Str("CriticalAddonsOnly")},
                                 {"operator", Str("Exists")}})})},
       {"initContainers", Arr({init})},
       {"containers", Arr({buildkitd, agent})},
       {"volumes",
        Arr({HostVolume("host-cgroup", "/sys/fs/cgroup", "Directory"),
             HostVolume("host-run", "/run", "Directory"),
             HostVolume("host-tmp", "/tmp", "Directory"),
             HostVolume("host-var-lib-buildkit", "/var/lib/buildkit", "DirectoryOrCreate"),
             HostVolume("host-containerd", spec.containerd_volume, "DirectoryOrCreate"),
             Obj({{"name", Str("certs")},
                  {"secret", Obj({{"secretName", Str(kServerSecret)},
                                  {"defaultMode", Num(0400)}})}})})}});
  Json ds_spec = Obj(
      {{"selector", Obj({{"matchLabels", SelectorLabels()}})},
       {"updateStrategy", Obj({{"type", Str("RollingUpdate")}})},
       {"template", Obj({{"metadata", Obj({{"labels", pod_labels},
                                           {"annotations",
                                            Obj({{kTlsChecksumAnnotation, Str(spec.tls_checksum)}})}})},
                         {"spec", pod_spec}})}});
  return Obj({{"metadata", Metadata(kBuilderName, spec.namespace_name)}, {"spec", ds_spec}});
}

Json TlsSecretObject(const std::string& name, const std::string& ns, const std::string& cert_pem,
                     const std::string& key_pem, const std::string& ca_pem) {
  Fields data{{"tls.crt", Str(absl::Base64Escape(cert_pem))},
              {"tls.key", Str(absl::Base64Escape(key_pem))}};
  if (!ca_pem.empty()) data.push_back({"ca.crt", Str(absl::Base64Escape(ca_pem))});
  return Obj({{"metadata", Metadata(name, ns, Obj({{kManagedByLabel, Str("kim")}}))},
              {"type", Str("kubernetes.io/tls")},
              {"data", Obj(std::move(data))}});
}

std::string HashJson(const Json& value) {
  const std::string text = value.serialize();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string RegistryKey(const std::string& server) {
  std::string host = absl::AsciiStrToLower(server);
  for (const char* scheme : {"https://", "http://"}) {
    if (absl::StartsWith(host, scheme)) host = host.substr(strlen(scheme));
  }
  if (size_t slash = host.find('/'); slash != std::string::npos) host = host.substr(0, slash);
  if (host.empty() || host == "docker.io" || absl::EndsWith(host, ".docker.io")) {
    return "https://index.docker.io/v1/";
  }
  return host;
}

}  // namespace kim::kube
