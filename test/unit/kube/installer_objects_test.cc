// Tests for lib/kube/installer_objects.h: runtime detection, the objects' shapes (the fixes to
// the original's defects), registry keys.
#include "lib/kube/installer_objects.h"

#include <map>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"

namespace kim::kube {
namespace {

BuilderSpec Spec() {
  BuilderSpec spec;
  spec.namespace_name = "kube-image";
  spec.agent_image = "docker.io/rancher/kim-agent:v1";
  spec.buildkit_image = "docker.io/moby/buildkit:v0.17.3";
  spec.containerd_socket = "/run/k3s/containerd/containerd.sock";
  spec.containerd_volume = "/var/lib/rancher/k3s/agent/containerd";
  spec.builders = {{"node1", "10.0.0.5"}};
  spec.tls_checksum = "abc";
  return spec;
}

const Json& Container(const Json& ds, const std::string& name) {
  for (const Json& c : ds.at("spec").at("template").at("spec").at("containers").as_array()) {
    if (JsonString(c, {"name"}) == name) return c;
  }
  FAIL("no container " << name);
  throw std::logic_error("unreachable");
}

std::vector<std::string> Strings(const Json& array) {
  std::vector<std::string> out;
  for (const Json& item : array.as_array()) out.push_back(item.as_string());
  return out;
}

// The Secrets a pod spec mounts.
std::vector<std::string> SecretVolumes(const Json& pod) {
  std::vector<std::string> names;
  for (const Json& volume : pod.at("volumes").as_array()) {
    if (volume.has_field("secret")) names.push_back(JsonString(volume, {"secret", "secretName"}));
  }
  return names;
}

TEST_CASE("runtime detection from containerRuntimeVersion", "[kube][installer]") {
  auto k3s = DetectRuntime("n", "containerd://1.7.21-k3s1");
  REQUIRE(k3s.ok());
  CHECK(k3s->socket == "/run/k3s/containerd/containerd.sock");
  CHECK(k3s->volume == "/var/lib/rancher/k3s/agent/containerd");
  auto stock = DetectRuntime("n", "containerd://1.7.12");
  REQUIRE(stock.ok());
  CHECK(stock->socket == "/run/containerd/containerd.sock");
  CHECK(stock->volume == "/var/lib/containerd");
  auto docker = DetectRuntime("n1", "docker://20.10.7");
  REQUIRE(docker.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StartsWith(docker.status().message(),
      "container runtime \"docker\" of node \"n1\" is not supported"));
  CHECK(DetectRuntime("n", "cri-o://1.28").status().message().find("\"cri-o\"") != std::string::npos);
  CHECK(DetectRuntime("n", "").status().message().find("(none reported)") != std::string::npos);
}

TEST_CASE("DaemonSet: own service account, tolerations, requests, probes, k8s.io worker",
          "[kube][installer]") {
  const Json ds = DaemonSetObject(Spec());
  const Json& pod = ds.at("spec").at("template").at("spec");
  CHECK(JsonString(pod, {"serviceAccountName"}) == "builder");
  CHECK(pod.at("automountServiceAccountToken").as_bool() == false);
  CHECK(pod.at("hostNetwork").as_bool());
  CHECK_FALSE(pod.has_field("hostIPC"));
  CHECK(JsonString(pod, {"nodeSelector", kBuilderNodeLabel}) == "true");
  std::vector<std::string> tolerations;
  for (const Json& t : pod.at("tolerations").as_array()) tolerations.push_back(JsonString(t, {"key"}));
  CHECK(tolerations == std::vector<std::string>{"node-role.kubernetes.io/control-plane",
                                                "node-role.kubernetes.io/master",
                                                "CriticalAddonsOnly"});
  const Json& buildkitd = Container(ds, "buildkitd");
  const auto args = Strings(buildkitd.at("args"));
  CHECK(std::count(args.begin(), args.end(), "--containerd-worker-namespace=k8s.io") == 1);
  CHECK(std::count(args.begin(), args.end(),
                   "--containerd-worker-addr=/run/k3s/containerd/containerd.sock") == 1);
  CHECK(std::count(args.begin(), args.end(), "--addr=tcp://0.0.0.0:1234") == 1);
  CHECK(std::count(args.begin(), args.end(), "--tlscacert=/certs/ca.crt") == 1);
  const Json& agent = Container(ds, "agent");
  for (const Json* c : {&buildkitd, &agent}) {
    CHECK_FALSE(JsonString(*c, {"resources", "requests", "cpu"}).empty());
    CHECK_FALSE(JsonString(*c, {"resources", "requests", "memory"}).empty());
    CHECK(c->has_field("readinessProbe"));
    CHECK(c->has_field("livenessProbe"));
  }
  CHECK(Strings(agent.at("args")) ==
        std::vector<std::string>{"--listen=0.0.0.0:1233",
                                 "--containerd-socket=/run/k3s/containerd/containerd.sock",
                                 "--tlscacert=/certs/ca.crt", "--tlscert=/certs/tls.crt",
                                 "--tlskey=/certs/tls.key"});
  // Only the server Secret is mounted: the CA key never reaches the pod.
  CHECK(SecretVolumes(pod) == std::vector<std::string>{kServerSecret});
  CHECK(JsonString(ds, {"spec", "template", "metadata", "annotations", kTlsChecksumAnnotation}) == "abc");
}

// A container's mounts as "name path [ro] [propagation]", and the pod's host paths by volume.
std::vector<std::string> Mounts(const Json& container) {
  std::vector<std::string> out;
  for (const Json& m : container.at("volumeMounts").as_array()) {
    std::string line = JsonString(m, {"name"}) + " " + JsonString(m, {"mountPath"});
    if (m.has_field("readOnly") && m.at("readOnly").as_bool()) line += " ro";
    if (m.has_field("mountPropagation")) line += " " + JsonString(m, {"mountPropagation"});
    out.push_back(line);
  }
  return out;
}

std::map<std::string, std::string> HostPaths(const Json& pod) {
  std::map<std::string, std::string> out;
  for (const Json& volume : pod.at("volumes").as_array()) {
    if (volume.has_field("hostPath")) {
      out[JsonString(volume, {"name"})] = JsonString(volume, {"hostPath", "path"}) + " " +
                                          JsonString(volume, {"hostPath", "type"});
    }
  }
  return out;
}

TEST_CASE("DaemonSet confinement: no hostPID, only the node paths each container needs (k3s)",
          "[kube][installer]") {
  const Json ds = DaemonSetObject(Spec());
  const Json& pod = ds.at("spec").at("template").at("spec");
  CHECK_FALSE(pod.has_field("hostPID"));
  CHECK_FALSE(pod.has_field("hostIPC"));
  CHECK(HostPaths(pod) == std::map<std::string, std::string>{
            {"host-proc", "/proc Directory"},
            {"host-cgroup", "/sys/fs/cgroup Directory"},
            {"containerd-socket", "/run/k3s/containerd/containerd.sock Socket"},
            {"containerd-fifo", "/run/containerd/fifo DirectoryOrCreate"},
            {"buildkit-run", "/run/buildkit DirectoryOrCreate"},
            {"buildkit-state", "/var/lib/buildkit DirectoryOrCreate"},
            {"containerd-root", "/var/lib/rancher/k3s/agent/containerd DirectoryOrCreate"}});
  // The agent: the containerd socket (read-only: connecting needs no write) and its certificate.
  CHECK(Mounts(Container(ds, "agent")) ==
        std::vector<std::string>{"containerd-socket /run/k3s/containerd/containerd.sock ro",
                                 "certs /certs ro"});
  CHECK_FALSE(Container(ds, "agent").has_field("securityContext"));
  // buildkitd: no /run, no /tmp, no /var/lib/rancher as a whole; Bidirectional only on its
  // state dir and containerd's root; its TMPDIR beneath the state dir.
  const Json& buildkitd = Container(ds, "buildkitd");
  CHECK(Mounts(buildkitd) ==
        std::vector<std::string>{"host-cgroup /sys/fs/cgroup ro",
                                 "containerd-socket /run/k3s/containerd/containerd.sock",
                                 "containerd-fifo /run/containerd/fifo",
                                 "buildkit-run /run/buildkit",
                                 "buildkit-state /var/lib/buildkit Bidirectional",
                                 "containerd-root /var/lib/rancher/k3s/agent/containerd Bidirectional",
                                 "certs /certs ro"});
  REQUIRE(buildkitd.at("env").size() == 1);
  CHECK(JsonString(buildkitd.at("env").at(0), {"name"}) == "TMPDIR");
  CHECK(JsonString(buildkitd.at("env").at(0), {"value"}) == "/var/lib/buildkit/tmp");
  // The init container alone reaches the node's mount namespace, through the node's /proc.
  const Json& init = pod.at("initContainers").at(0);
  CHECK(Mounts(init) == std::vector<std::string>{"host-proc /host/proc ro",
                                                 "buildkit-state /var/lib/buildkit"});
  const std::string script = Strings(init.at("command")).back();
  CHECK(script.find("nsenter --mount=/host/proc/1/ns/mnt --") != std::string::npos);
  CHECK(script.find("-t 1") == std::string::npos);
  CHECK(script.find("mkdir -p -m 0700 /var/lib/buildkit/tmp") != std::string::npos);
  CHECK(JsonString(init.at("env").at(0), {"value"}) ==
        "/var/lib/buildkit /var/lib/rancher/k3s/agent/containerd");
}

TEST_CASE("DaemonSet confinement on a stock containerd node", "[kube][installer]") {
  BuilderSpec spec = Spec();
  spec.containerd_socket = "unix:///run/containerd/containerd.sock";
  spec.containerd_volume = "/var/lib/containerd";
  const Json ds = DaemonSetObject(spec);
  const Json& pod = ds.at("spec").at("template").at("spec");
  CHECK(HostPaths(pod).at("containerd-socket") == "/run/containerd/containerd.sock Socket");
  CHECK(HostPaths(pod).at("containerd-root") == "/var/lib/containerd DirectoryOrCreate");
  for (const auto& [name, path] : HostPaths(pod)) {
    INFO(name << ": " << path);
    CHECK_FALSE(absl::StartsWith(path, "/run "));
    CHECK_FALSE(absl::StartsWith(path, "/tmp "));
    CHECK_FALSE(absl::StartsWith(path, "/ "));
  }
  CHECK(Mounts(Container(ds, "agent")).at(0) == "containerd-socket /run/containerd/containerd.sock ro");
}

TEST_CASE("DaemonSet hash changes with what matters", "[kube][installer]") {
  BuilderSpec spec = Spec();
  const std::string base = HashJson(DaemonSetObject(spec));
  CHECK(HashJson(DaemonSetObject(spec)) == base);
  spec.tls_checksum = "def";
  CHECK(HashJson(DaemonSetObject(spec)) != base);
  spec = Spec();
  spec.buildkit_port = 2234;
  CHECK(HashJson(DaemonSetObject(spec)) != base);
}

TEST_CASE("Service, Endpoints, ServiceAccount, Secret, Namespace shapes", "[kube][installer]") {
  BuilderSpec spec = Spec();
  spec.endpoint_addr = "127.0.0.1";
  const Json service = ServiceObject(spec);
  CHECK(JsonString(service, {"spec", "clusterIP"}) == "None");
  CHECK_FALSE(service.at("spec").has_field("selector"));
  CHECK(JsonString(service, {"metadata", "annotations", kEndpointOverrideAnnotation}) == "127.0.0.1");
  const Json endpoints = EndpointsObject(spec);
  CHECK(JsonString(endpoints.at("subsets").at(0).at("addresses").at(0), {"ip"}) == "10.0.0.5");
  CHECK(endpoints.at("subsets").at(0).at("ports").size() == 2);
  CHECK(ServiceAccountObject(spec).at("automountServiceAccountToken").as_bool() == false);
  const Json secret = TlsSecretObject("s", "ns", "C", "K", "A");
  CHECK(JsonString(secret, {"type"}) == "kubernetes.io/tls");
  CHECK(JsonString(secret, {"data", "tls.crt"}) == "Qw==");
  CHECK(JsonString(secret, {"data", "ca.crt"}) == "QQ==");
  CHECK_FALSE(TlsSecretObject("s", "ns", "C", "K", "").at("data").has_field("ca.crt"));
  CHECK(JsonString(NamespaceObject("x"), {"metadata", "labels", kManagedByLabel}) == "kim");
}

TEST_CASE("Endpoints list every builder node with its nodeName, in order", "[kube][installer]") {
  BuilderSpec spec = Spec();
  spec.builders = {{"node-b", "10.0.0.7"}, {"node-a", "10.0.0.6"}};
  const Json endpoints = EndpointsObject(spec);
  REQUIRE(endpoints.at("subsets").size() == 1);
  const Json& addresses = endpoints.at("subsets").at(0).at("addresses");
  REQUIRE(addresses.size() == 2);
  CHECK(JsonString(addresses.at(0), {"ip"}) == "10.0.0.7");
  CHECK(JsonString(addresses.at(0), {"nodeName"}) == "node-b");
  CHECK(JsonString(addresses.at(1), {"ip"}) == "10.0.0.6");
  CHECK(JsonString(addresses.at(1), {"nodeName"}) == "node-a");
}

TEST_CASE("agent DaemonSet: one per flavour, the agent alone, never on a builder node",
          "[kube][installer]") {
  const BuilderSpec spec = Spec();  // the builder nodes run k3s; this agent is for stock nodes
  const Json ds = AgentDaemonSetObject(
      spec, {"containerd", "/run/containerd/containerd.sock", "/var/lib/containerd"});
  CHECK(JsonString(ds, {"metadata", "name"}) == "agent-containerd");
  CHECK(JsonString(ds, {"metadata", "namespace"}) == "kube-image");
  CHECK(JsonString(ds, {"metadata", "labels", kComponentLabel}) == "agent");
  CHECK(JsonString(ds, {"metadata", "labels", kManagedByLabel}) == "kim");
  // Its own selector (two DaemonSets must never select each other's pods), carried by its pods.
  const Json& selector = ds.at("spec").at("selector").at("matchLabels");
  CHECK(JsonString(selector, {kNameLabel}) == "kim");
  CHECK(JsonString(selector, {kComponentLabel}) == "agent");
  CHECK(JsonString(selector, {kRuntimeNodeLabel}) == "containerd");
  const Json& labels = ds.at("spec").at("template").at("metadata").at("labels");
  for (const auto& [key, value] : selector.as_object()) CHECK(JsonString(labels, {key.c_str()}) == value.as_string());
  CHECK(JsonString(labels, {kComponentLabel}) == "agent");
  CHECK(JsonString(ds, {"spec", "template", "metadata", "annotations", kTlsChecksumAnnotation}) == "abc");

  const Json& pod = ds.at("spec").at("template").at("spec");
  CHECK(JsonString(pod, {"nodeSelector", kRuntimeNodeLabel}) == "containerd");
  CHECK(pod.at("nodeSelector").size() == 1);
  const Json& terms = pod.at("affinity").at("nodeAffinity")
                          .at("requiredDuringSchedulingIgnoredDuringExecution")
                          .at("nodeSelectorTerms");
  REQUIRE(terms.size() == 1);
  REQUIRE(terms.at(0).at("matchExpressions").size() == 1);
  const Json& expression = terms.at(0).at("matchExpressions").at(0);
  CHECK(JsonString(expression, {"key"}) == kBuilderNodeLabel);
  CHECK(JsonString(expression, {"operator"}) == "DoesNotExist");
  CHECK(pod.at("hostNetwork").as_bool());
  CHECK(JsonString(pod, {"dnsPolicy"}) == "ClusterFirstWithHostNet");
  CHECK(JsonString(pod, {"serviceAccountName"}) == "builder");
  CHECK(pod.at("automountServiceAccountToken").as_bool() == false);
  CHECK(pod.at("tolerations").size() == 3);
  CHECK_FALSE(pod.has_field("initContainers"));
  CHECK_FALSE(pod.has_field("hostPID"));
  REQUIRE(pod.at("containers").size() == 1);
  const Json& agent = Container(ds, "agent");
  // The same container as in the builder pod, on this node's socket.
  CHECK(Strings(agent.at("args")) ==
        std::vector<std::string>{"--listen=0.0.0.0:1233",
                                 "--containerd-socket=/run/containerd/containerd.sock",
                                 "--tlscacert=/certs/ca.crt", "--tlscert=/certs/tls.crt",
                                 "--tlskey=/certs/tls.key"});
  CHECK(JsonString(agent, {"image"}) == "docker.io/rancher/kim-agent:v1");
  CHECK_FALSE(agent.has_field("securityContext"));
  CHECK(Mounts(agent) == std::vector<std::string>{"containerd-socket /run/containerd/containerd.sock ro",
                                                  "certs /certs ro"});
  CHECK(HostPaths(pod) == std::map<std::string, std::string>{
            {"containerd-socket", "/run/containerd/containerd.sock Socket"}});
  CHECK(SecretVolumes(pod) == std::vector<std::string>{kServerSecret});
  // The agent container is the builder pod's, save the socket.
  BuilderSpec stock = spec;
  stock.containerd_socket = "/run/containerd/containerd.sock";
  CHECK(Container(DaemonSetObject(stock), "agent").serialize() == agent.serialize());

  const Json k3s = AgentDaemonSetObject(
      spec, {"k3s", "/run/k3s/containerd/containerd.sock", "/var/lib/rancher/k3s/agent/containerd"});
  CHECK(JsonString(k3s, {"metadata", "name"}) == "agent-k3s");
  CHECK(JsonString(k3s, {"spec", "selector", "matchLabels", kRuntimeNodeLabel}) == "k3s");
  CHECK(JsonString(k3s, {"spec", "template", "spec", "nodeSelector", kRuntimeNodeLabel}) == "k3s");
  CHECK(Mounts(Container(k3s, "agent")).at(0) ==
        "containerd-socket /run/k3s/containerd/containerd.sock ro");
  CHECK(AgentDaemonSetName("custom") == "agent-custom");
  // Builder pods keep their own labels: the two kinds never select each other's pods.
  CHECK(JsonString(DaemonSetObject(spec), {"spec", "template", "metadata", "labels", kComponentLabel}) ==
        "builder");
}

TEST_CASE("registry keys for the docker config Secret", "[kube][installer]") {
  CHECK(RegistryKey("") == "https://index.docker.io/v1/");
  CHECK(RegistryKey("docker.io") == "https://index.docker.io/v1/");
  CHECK(RegistryKey("index.docker.io") == "https://index.docker.io/v1/");
  CHECK(RegistryKey("https://index.docker.io/v1/") == "https://index.docker.io/v1/");
  CHECK(RegistryKey("registry.example.com:5000") == "registry.example.com:5000");
  CHECK(RegistryKey("https://Registry.example.com/v2/") == "registry.example.com");
  CHECK(RegistryKey("http://127.0.0.1:5000") == "127.0.0.1:5000");
}

}  // namespace
}  // namespace kim::kube
