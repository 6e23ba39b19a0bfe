// kim system install / uninstall / info / login / logout and the kubeconfig loader against a
// real kube-apiserver + etcd. There is no kubelet, scheduler or controller manager: the test
// creates the Node object itself, creates the builder pod where the DaemonSet controller would
// and writes its status where the kubelet would, and finalizes the namespace when it is being
// deleted (what the namespace controller would do).
// peers: kube-apiserver
// lock: builder-node-role
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/client.h"
#include "lib/kube/installer.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/pki.h"
#include "test/support/kube_cluster.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"

namespace kim::kube {
namespace {

using kim::test::CreateBuilderPod;
using kim::test::CreateNode;
using kim::test::KubeAdmin;
using kim::test::Kim;
using kim::test::KubeClient;
using kim::test::ObjectNames;
using kim::test::PeerEnv;
using kim::test::Run;
using kim::test::SecretField;
using kim::test::SetPodReady;
using kim::test::SetPodStatus;
using kim::test::UniqueName;

class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/kim-kube-it.XXXXXX";
    path_ = mkdtemp(templ);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text, int mode = 0600) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    chmod(file.c_str(), mode);
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void SetNodeAddress(Client& client, const std::string& name, const std::string& ip) {
  auto node = client.Get(kNodes, "", name);
  REQUIRE(node.ok());
  (*node)["status"]["addresses"][0]["address"] = Json::string(ip);
  auto updated = client.Update(kNodes, "", *node, "status");
  INFO(updated.status());
  REQUIRE(updated.ok());
}

// What the namespace controller would do: once the namespace is terminating, drop its
// finalizer so that the API server removes it. Runs until `stop`.
void FinalizeNamespaceWhenDeleted(Client& client, const std::string& ns, std::atomic<bool>& stop) {
  while (!stop) {
    auto object = client.Get(kNamespaces, "", ns);
    if (absl::IsNotFound(object.status())) return;
    if (object.ok() && JsonAt(*object, {"metadata", "deletionTimestamp"}) != nullptr) {
      Json finalized = *object;
      finalized["spec"]["finalizers"] = Json::array();
      (void)client.Update(kNamespaces, "", finalized, "finalize");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::map<std::string, std::string> ResourceVersions(Client& client, const std::string& ns,
                                                    const std::string& node) {
  std::map<std::string, std::string> versions;
  for (const auto& [resource, name] :
       std::vector<std::pair<const Resource*, std::string>>{
           {&kDaemonSets, kBuilderName}, {&kServices, kBuilderName}, {&kEndpoints, kBuilderName},
           {&kServiceAccounts, kBuilderName}, {&kSecrets, kCaSecret}, {&kSecrets, kServerSecret},
           {&kSecrets, kClientSecret}, {&kNamespaces, ""}, {&kNodes, ""}}) {
    const std::string object_name =
        resource == &kNamespaces ? ns : resource == &kNodes ? node : name;
    auto object = client.Get(*resource, resource->namespaced ? ns : "", object_name);
    INFO(object.status());
    REQUIRE(object.ok());
    versions[absl::StrCat(resource->plural, "/", object_name)] =
        JsonString(*object, {"metadata", "resourceVersion"});
  }
  return versions;
}

std::string Uid(Client& client, const Resource& resource, const std::string& ns, const std::string& name) {
  auto object = client.Get(resource, ns, name);
  REQUIRE(object.ok());
  return JsonString(*object, {"metadata", "uid"});
}

std::vector<std::string> Strings(const Json& array) {
  std::vector<std::string> out;
  for (const Json& item : array.as_array()) out.push_back(item.as_string());
  return out;
}

const Json& Named(const Json& array, const std::string& name) {
  for (const Json& item : array.as_array()) {
    if (JsonString(item, {"name"}) == name) return item;
  }
  FAIL("no entry named " << name);
  throw std::logic_error("unreachable");
}

void CheckDaemonSet(const Json& ds, const std::string& ns) {
  CHECK(JsonString(ds, {"metadata", "namespace"}) == ns);
  CHECK(JsonString(ds, {"metadata", "labels", kManagedByLabel}) == "kim");
  CHECK(JsonString(ds, {"spec", "selector", "matchLabels", "app.kubernetes.io/name"}) == "kim");
  CHECK(JsonString(ds, {"spec", "selector", "matchLabels", "app.kubernetes.io/component"}) == "builder");
  CHECK(JsonString(ds, {"spec", "updateStrategy", "type"}) == "RollingUpdate");
  const Json& pod = ds.at("spec").at("template").at("spec");
  CHECK(JsonString(ds, {"spec", "template", "metadata", "labels", "app.kubernetes.io/name"}) == "kim");
  CHECK_FALSE(JsonString(ds, {"spec", "template", "metadata", "annotations", kTlsChecksumAnnotation}).empty());
  CHECK(JsonString(pod, {"serviceAccountName"}) == "builder");
  CHECK(pod.at("automountServiceAccountToken").as_bool() == false);
  CHECK(pod.at("hostNetwork").as_bool());
  CHECK_FALSE(pod.has_field("hostPID"));  // the pod does not share the node's PID namespace
  CHECK_FALSE(pod.has_field("hostIPC"));
  CHECK(JsonString(pod, {"dnsPolicy"}) == "ClusterFirstWithHostNet");
  CHECK(pod.at("nodeSelector").size() == 1);
  CHECK(JsonString(pod, {"nodeSelector", kBuilderNodeLabel}) == "true");
  REQUIRE(pod.at("tolerations").size() == 3);
  CHECK(JsonString(pod.at("tolerations").at(0), {"key"}) == "node-role.kubernetes.io/control-plane");
  CHECK(JsonString(pod.at("tolerations").at(0), {"effect"}) == "NoSchedule");
  CHECK(JsonString(pod.at("tolerations").at(1), {"key"}) == "node-role.kubernetes.io/master");
  CHECK(JsonString(pod.at("tolerations").at(2), {"key"}) == "CriticalAddonsOnly");

  REQUIRE(pod.at("initContainers").size() == 1);
  const Json& init = pod.at("initContainers").at(0);
  CHECK(JsonString(init, {"name"}) == "rshared-mounts");
  CHECK(JsonString(init, {"image"}) == "docker.io/moby/buildkit:v0.17.3");
  CHECK(init.at("securityContext").at("privileged").as_bool());

  REQUIRE(pod.at("containers").size() == 2);
  const Json& buildkitd = Named(pod.at("containers"), "buildkitd");
  CHECK(JsonString(buildkitd, {"image"}) == "docker.io/moby/buildkit:v0.17.3");
  CHECK(Strings(buildkitd.at("args")) ==
        std::vector<std::string>{"--addr=unix:///run/buildkit/buildkitd.sock",
                                 "--addr=tcp://0.0.0.0:1234", "--containerd-worker=true",
                                 "--containerd-worker-addr=/run/k3s/containerd/containerd.sock",
                                 "--containerd-worker-namespace=k8s.io", "--containerd-worker-gc",
                                 "--oci-worker=false", "--tlscacert=/certs/ca.crt",
                                 "--tlscert=/certs/tls.crt", "--tlskey=/certs/tls.key"});
  CHECK(JsonString(buildkitd.at("ports").at(0), {"name"}) == "buildkit");
  CHECK(JsonInt(buildkitd.at("ports").at(0), {"containerPort"}) == 1234);
  CHECK(buildkitd.at("securityContext").at("privileged").as_bool());
  CHECK(JsonString(buildkitd, {"resources", "requests", "cpu"}) == "100m");
  CHECK(JsonString(buildkitd, {"resources", "requests", "memory"}) == "256Mi");
  // TCP probes on the buildkit port: no exec in the pod (buildkitd listens once its workers are up).
  CHECK(JsonInt(buildkitd, {"readinessProbe", "tcpSocket", "port"}) == 1234);
  CHECK(JsonInt(buildkitd, {"livenessProbe", "tcpSocket", "port"}) == 1234);
  CHECK_FALSE(buildkitd.at("readinessProbe").has_field("exec"));
  std::map<std::string, std::string> mounts;
  for (const Json& m : buildkitd.at("volumeMounts").as_array()) {
    mounts[JsonString(m, {"name"})] = JsonString(m, {"mountPath"});
  }
  CHECK(mounts == std::map<std::string, std::string>{
                       {"certs", "/certs"},
                       {"host-cgroup", "/sys/fs/cgroup"},
                       {"containerd-socket", "/run/k3s/containerd/containerd.sock"},
                       {"containerd-fifo", "/run/containerd/fifo"},
                       {"buildkit-run", "/run/buildkit"},
                       {"containerd-root", "/var/lib/rancher/k3s/agent/containerd"},
                       {"buildkit-state", "/var/lib/buildkit"}});
  CHECK(JsonString(Named(buildkitd.at("volumeMounts"), "containerd-root"), {"mountPropagation"}) ==
        "Bidirectional");

  const Json& agent = Named(pod.at("containers"), "agent");
  CHECK(JsonString(agent, {"image"}).starts_with("docker.io/rancher/kim-agent:"));
  CHECK(Strings(agent.at("command")) == std::vector<std::string>{"kim-agent"});
  CHECK(Strings(agent.at("args")) ==
        std::vector<std::string>{"--listen=0.0.0.0:1233",
                                 "--containerd-socket=/run/k3s/containerd/containerd.sock",
                                 "--tlscacert=/certs/ca.crt", "--tlscert=/certs/tls.crt",
                                 "--tlskey=/certs/tls.key"});
  CHECK(JsonInt(agent.at("ports").at(0), {"containerPort"}) == 1233);
  CHECK(JsonInt(agent, {"readinessProbe", "tcpSocket", "port"}) == 1233);
  CHECK(JsonInt(agent, {"livenessProbe", "tcpSocket", "port"}) == 1233);
  CHECK_FALSE(JsonString(agent, {"resources", "requests", "cpu"}).empty());
  CHECK_FALSE(agent.has_field("securityContext"));

  std::map<std::string, std::string> volumes;
  for (const Json& v : pod.at("volumes").as_array()) {
    volumes[JsonString(v, {"name"})] = v.has_field("secret")
                                           ? "secret:" + JsonString(v, {"secret", "secretName"})
                                           : JsonString(v, {"hostPath", "path"});
  }
  CHECK(volumes == std::map<std::string, std::string>{
                        {"certs", "secret:kim-tls-server"},
                        {"host-proc", "/proc"},
                        {"host-cgroup", "/sys/fs/cgroup"},
                        {"containerd-socket", "/run/k3s/containerd/containerd.sock"},
                        {"containerd-fifo", "/run/containerd/fifo"},
                        {"buildkit-run", "/run/buildkit"},
                       {"buildkit-run", "/run/buildkit"},
                        {"containerd-root", "/var/lib/rancher/k3s/agent/containerd"},
                        {"buildkit-state", "/var/lib/buildkit"}});
  CHECK(JsonString(Named(pod.at("volumes"), "containerd-socket"), {"hostPath", "type"}) == "Socket");
  std::map<std::string, std::string> agent_mounts;
  for (const Json& m : agent.at("volumeMounts").as_array()) {
    agent_mounts[JsonString(m, {"name"})] = JsonString(m, {"mountPath"});
  }
  CHECK(agent_mounts == std::map<std::string, std::string>{
                            {"certs", "/certs"},
                            {"containerd-socket", "/run/k3s/containerd/containerd.sock"}});
}

TEST_CASE("install, reinstall, renew, force, info and uninstall against the API server",
          "[kube][install]") {
  auto admin = KubeAdmin();
  const std::string kubeconfig = PeerEnv("KIM_TEST_KUBECONFIG");
  const std::string ns = UniqueName("kim-it");
  const std::string node = UniqueName("kim-node");
  CreateNode(*admin, node, "10.11.12.13");
  const std::string selector = "kubernetes.io/hostname=" + node;

  // 1. First install through the real binary, not waiting.
  auto first = Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait", "--selector", selector});
  REQUIRE(first.exit_code == 0);
  CHECK(first.err.find("Applying node-role `builder` to node `" + node + "`") != std::string::npos);
  CHECK(first.err.find("k3s containerd://1.7.21-k3s1") != std::string::npos);

  // Exactly the expected objects.
  CHECK(ObjectNames(*admin, kDaemonSets, ns) == std::set<std::string>{"builder"});
  CHECK(ObjectNames(*admin, kServices, ns) == std::set<std::string>{"builder"});
  CHECK(ObjectNames(*admin, kEndpoints, ns) == std::set<std::string>{"builder"});
  CHECK(ObjectNames(*admin, kSecrets, ns) ==
        std::set<std::string>{"kim-tls-ca", "kim-tls-client", "kim-tls-server"});
  CHECK(ObjectNames(*admin, kServiceAccounts, ns, "app.kubernetes.io/managed-by=kim") ==
        std::set<std::string>{"builder"});
  CHECK(ObjectNames(*admin, kPods, ns).empty());
  CHECK(ObjectNames(*admin, kNodes, "", kBuilderNodeLabel) == std::set<std::string>{node});
  auto namespace_object = admin->Get(kNamespaces, "", ns);
  REQUIRE(namespace_object.ok());
  CHECK(JsonString(*namespace_object, {"metadata", "labels", kManagedByLabel}) == "kim");

  auto ds = admin->Get(kDaemonSets, ns, kBuilderName);
  REQUIRE(ds.ok());
  CheckDaemonSet(*ds, ns);
  auto sa = admin->Get(kServiceAccounts, ns, kBuilderName);
  REQUIRE(sa.ok());
  CHECK(sa->at("automountServiceAccountToken").as_bool() == false);
  auto service = admin->Get(kServices, ns, kBuilderName);
  REQUIRE(service.ok());
  CHECK(JsonString(*service, {"spec", "clusterIP"}) == "None");
  CHECK(service->at("spec").at("ports").size() == 2);

  // PKI: the client certificate verifies against the CA; the server names the node.
  const std::string ca = SecretField(*admin, ns, kCaSecret, "tls.crt");
  CHECK(CheckKeyPair(ca, {SecretField(*admin, ns, kClientSecret, "tls.crt"),
                          SecretField(*admin, ns, kClientSecret, "tls.key")}).ok());
  CHECK(SecretField(*admin, ns, kServerSecret, "ca.crt") == ca);
  auto server_cert = InspectCertificate(SecretField(*admin, ns, kServerSecret, "tls.crt"));
  REQUIRE(server_cert.ok());
  CHECK(std::count(server_cert->ip_addresses.begin(), server_cert->ip_addresses.end(), "10.11.12.13") == 1);
  CHECK(std::count(server_cert->dns_names.begin(), server_cert->dns_names.end(), "builder." + ns + ".svc") == 1);
  CHECK(std::count(server_cert->dns_names.begin(), server_cert->dns_names.end(), node) == 1);
  CHECK(server_cert->not_after - absl::Now() > absl::Hours(24 * 360));
  const auto server_secret = admin->Get(kSecrets, ns, kServerSecret);
  REQUIRE(server_secret.ok());
  CHECK_FALSE(server_secret->at("data").has_field("ca.key"));

  // Discovery: node address + ports + client certificate.
  auto endpoint = DiscoverBuilder(*admin, ns);
  INFO(endpoint.status());
  REQUIRE(endpoint.ok());
  CHECK(endpoint->host == "10.11.12.13");
  CHECK(endpoint->buildkit_port == 1234);
  CHECK(endpoint->agent_port == 1233);
  CHECK(endpoint->tls.ca == ca);

  // 2. A second install changes nothing.
  const auto before = ResourceVersions(*admin, ns, node);
  auto second = Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait", "--selector", selector});
  REQUIRE(second.exit_code == 0);
  CHECK(second.err.find("Builder daemon is up to date") != std::string::npos);
  CHECK(ResourceVersions(*admin, ns, node) == before);

  // 3. The node's address changes: the server certificate is renewed, the client's is not,
  //    the Endpoints follow, and the pods roll (template checksum).
  SetNodeAddress(*admin, node, "10.11.12.99");
  const std::string client_cert = SecretField(*admin, ns, kClientSecret, "tls.crt");
  std::vector<std::string> lines;
  InstallOptions options;
  options.selector = selector;
  options.timeout = absl::Seconds(30);
  options.progress = [&lines](std::string_view line) { lines.emplace_back(line); };
  auto installer = NewKubeInstaller(admin, ns);
  auto install = std::async(std::launch::async, [&] { return installer->Install(options); });
  // Play DaemonSet controller and kubelet: once the DaemonSet's template changed, a pod of it
  // runs on the node and becomes ready.
  const int64_t generation = JsonInt(*ds, {"metadata", "generation"});
  bool marked = false;
  for (int i = 0; i < 200 && !marked; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto current = admin->Get(kDaemonSets, ns, kBuilderName);
    if (current.ok() && JsonInt(*current, {"metadata", "generation"}) > generation) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let it print "waiting"
      const Json pod = CreateBuilderPod(*admin, ns, node);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // and "ContainerCreating"
      SetPodStatus(*admin, pod, "Pending",
                   {{.name = "rshared-mounts",
                     .state = R"({"terminated":{"exitCode":0,"reason":"Completed"}})"}},
                   {{.name = "buildkitd", .state = R"({"waiting":{"reason":"ContainerCreating"}})"},
                    {.name = "agent", .state = R"({"waiting":{"reason":"ContainerCreating"}})"}});
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      SetPodReady(*admin, pod);
      marked = true;
    }
  }
  CHECK(marked);
  const absl::Status installed = install.get();
  INFO(installed);
  REQUIRE(installed.ok());
  const std::string all = absl::StrJoin(lines, "\n");
  INFO(all);
  CHECK(all.find("Renewing the server certificate (the nodes' addresses changed)") != std::string::npos);
  CHECK(all.find("Waiting for the builder on node `" + node + "`: no pod yet (") != std::string::npos);
  CHECK(all.find("Waiting for the builder on node `" + node + "`: pod builder-") != std::string::npos);
  CHECK(all.find(": container \"buildkitd\": ContainerCreating (") != std::string::npos);
  CHECK(all.find("Builder ready: buildkitd at 10.11.12.99:1234, kim-agent at 10.11.12.99:1233") != std::string::npos);
  server_cert = InspectCertificate(SecretField(*admin, ns, kServerSecret, "tls.crt"));
  REQUIRE(server_cert.ok());
  CHECK(std::count(server_cert->ip_addresses.begin(), server_cert->ip_addresses.end(), "10.11.12.99") == 1);
  CHECK(std::count(server_cert->ip_addresses.begin(), server_cert->ip_addresses.end(), "10.11.12.13") == 0);
  CHECK(SecretField(*admin, ns, kClientSecret, "tls.crt") == client_cert);
  CHECK(DiscoverBuilder(*admin, ns)->host == "10.11.12.99");

  // 4. info through the binary. With a pod ready, info asks the running daemons; nothing runs
  //    at the fake node address (and nothing may be sent off this machine), so the builder is
  //    pointed at this machine first, as `--endpoint-addr 127.0.0.1` would: no daemon answers.
  auto pointed = admin->Get(kServices, ns, kBuilderName);
  REQUIRE(pointed.ok());
  (*pointed)["metadata"]["annotations"][kEndpointOverrideAnnotation] = Json::string("127.0.0.1");
  REQUIRE(admin->Update(kServices, ns, *pointed).ok());
  auto info = Kim({"-k", kubeconfig, "-n", ns, "system", "info"});
  REQUIRE(info.exit_code == 0);
  CHECK(info.out.find("Builder node:  " + node) != std::string::npos);
  CHECK(info.out.find("Ready:         1/1") != std::string::npos);
  CHECK(info.out.find("BuildKit:      v0.17.3 (docker.io/moby/buildkit:v0.17.3) at 127.0.0.1:1234") != std::string::npos);
  CHECK(info.out.find("at 127.0.0.1:1233") != std::string::npos);
  CHECK(info.out.find("  buildkitd:   not answering: ") != std::string::npos);
  CHECK(info.out.find("  kim-agent:   not answering: ") != std::string::npos);
  CHECK(info.out.find("Certificate:   expires ") != std::string::npos);

  // 4b. Discovery end to end: with --endpoint-addr 127.0.0.1 and a free agent port, a real
  //     kim-agent serving the installed server certificate is found through the Service,
  //     Endpoints and client Secret, and `kim images` reaches it over mutual TLS (the agent then
  //     answers that it has no containerd: there is none in this peer set).
  {
    const int agent_port = kim::test::FreeLoopbackPort();
    auto reinstall = Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait",
                          "--selector", selector, "--endpoint-addr", "127.0.0.1", "--agent-port",
                          std::to_string(agent_port)});
    REQUIRE(reinstall.exit_code == 0);
    auto found = DiscoverBuilder(*admin, ns);
    REQUIRE(found.ok());
    CHECK(found->host == "127.0.0.1");
    CHECK(found->agent_port == agent_port);
    TempDir certs;
    certs.Write("ca.crt", SecretField(*admin, ns, kServerSecret, "ca.crt"));
    certs.Write("tls.crt", SecretField(*admin, ns, kServerSecret, "tls.crt"));
    certs.Write("tls.key", SecretField(*admin, ns, kServerSecret, "tls.key"));
    test::Daemon agent({KIM_AGENT_BINARY, "--listen", absl::StrCat("127.0.0.1:", agent_port),
                        "--containerd-socket", certs.path() + "/no-containerd.sock", "--tlscacert",
                        certs.path() + "/ca.crt", "--tlscert", certs.path() + "/tls.crt",
                        "--tlskey", certs.path() + "/tls.key"});
    REQUIRE_FALSE(agent.WaitForLine("serving on port").empty());
    auto images = Kim({"-k", kubeconfig, "-n", ns, "images"}, "",
                      {{"DOCKER_CONFIG", certs.path()}, {"KIM_CONTAINERD_SOCKET", ""}});
    INFO(images.err);
    CHECK(images.exit_code == 1);
    // The agent's own answer (its containerd is missing) came back: discovery and mTLS worked.
    CHECK(images.err.find("cannot reach containerd at unix://" + certs.path() +
                          "/no-containerd.sock") != std::string::npos);
    agent.Stop(SIGTERM);
    // Unreachable now: --tunnel=never says how to give kim an address that routes, or to use
    // the tunnel.
    auto unreachable = Kim({"-k", kubeconfig, "-n", ns, "--tunnel", "never", "images"}, "",
                           {{"DOCKER_CONFIG", certs.path()}, {"KIM_CONTAINERD_SOCKET", ""}});
    INFO(unreachable.err);
    CHECK(unreachable.exit_code == 1);
    CHECK(unreachable.err.find(absl::StrCat("cannot reach the builder at 127.0.0.1:", agent_port,
                                            ": connection refused")) != std::string::npos);
    CHECK(unreachable.err.find("--tunnel=auto or --tunnel=always") != std::string::npos);
    CHECK(unreachable.err.find("kim system install --force --endpoint-addr ADDRESS") !=
          std::string::npos);
    // auto falls back to the tunnel, which cannot work here (these nodes have no kubelet): one
    // error names both attempts.
    auto both = Kim({"-k", kubeconfig, "-n", ns, "images"}, "",
                    {{"DOCKER_CONFIG", certs.path()}, {"KIM_CONTAINERD_SOCKET", ""},
                     {"XDG_CACHE_HOME", certs.path()}});
    INFO(both.err);
    CHECK(both.exit_code == 1);
    CHECK(both.err.find(absl::StrCat("directly at 127.0.0.1:", agent_port, ": connection refused")) !=
          std::string::npos);
    CHECK(both.err.find("through the API server") != std::string::npos);
    certs.Write("Dockerfile", "FROM scratch\n");
    auto build = Kim({"-k", kubeconfig, "-n", ns, "--tunnel", "never", "build", certs.path()}, "",
                     {{"DOCKER_CONFIG", certs.path()}, {"KIM_BUILDKIT_ADDR", ""}});
    INFO(build.err);
    CHECK(build.exit_code == 1);
    CHECK(build.err.find("cannot reach the builder at 127.0.0.1:") != std::string::npos);
    CHECK(build.err.find("--endpoint-addr ADDRESS") != std::string::npos);
  }

  // 5. --force recreates everything.
  const std::string ds_uid = Uid(*admin, kDaemonSets, ns, kBuilderName);
  const std::string ca_uid = Uid(*admin, kSecrets, ns, kCaSecret);
  auto forced = Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait", "--force",
                     "--selector", selector, "--agent-image", "example.com/kim-agent"});
  REQUIRE(forced.exit_code == 0);
  CHECK(Uid(*admin, kDaemonSets, ns, kBuilderName) != ds_uid);
  CHECK(Uid(*admin, kSecrets, ns, kCaSecret) != ca_uid);
  CHECK(SecretField(*admin, ns, kClientSecret, "tls.crt") != client_cert);
  auto forced_ds = admin->Get(kDaemonSets, ns, kBuilderName);
  REQUIRE(forced_ds.ok());
  // A missing tag is this version's.
  CHECK(JsonString(Named(forced_ds->at("spec").at("template").at("spec").at("containers"), "agent"),
                   {"image"})
            .starts_with("example.com/kim-agent:v"));

  // 6. Uninstall removes everything, node label included, and waits for the namespace.
  REQUIRE(admin->Create(kSecrets, ns, Json::parse(R"({"metadata":{"name":"users-own"},"data":{}})")).ok());
  std::atomic<bool> stop{false};
  std::thread finalizer(FinalizeNamespaceWhenDeleted, std::ref(*admin), ns, std::ref(stop));
  std::vector<std::string> uninstall_lines;
  absl::Status uninstalled = installer->Uninstall(
      {.timeout = absl::Seconds(30),
       .progress = [&](std::string_view line) { uninstall_lines.emplace_back(line); }});
  stop = true;
  finalizer.join();
  INFO(absl::StrJoin(uninstall_lines, "\n"));
  REQUIRE(uninstalled.ok());
  CHECK(absl::IsNotFound(admin->Get(kNamespaces, "", ns).status()));
  CHECK(ObjectNames(*admin, kNodes, "", kBuilderNodeLabel).empty());
  auto node_object = admin->Get(kNodes, "", node);
  REQUIRE(node_object.ok());
  CHECK(JsonString(*node_object, {"metadata", "labels", kBuilderNodeLabel}).empty());
  CHECK(absl::IsNotFound(installer->Info().status()));
  CHECK(admin->Delete(kNodes, "", node).ok());
}

TEST_CASE("uninstall leaves a namespace kim did not create", "[kube][install]") {
  auto admin = KubeAdmin();
  const std::string ns = UniqueName("kim-it-own");
  REQUIRE(admin->Create(kNamespaces, "", Json::parse(absl::StrCat(R"({"metadata":{"name":")", ns, R"("}})"))).ok());
  auto installer = NewKubeInstaller(admin, ns);
  REQUIRE(installer->Login({.server = "r.example.com", .username = "u", .password = "p"}).ok());
  REQUIRE(installer->Uninstall({.timeout = absl::Seconds(20)}).ok());
  auto still = admin->Get(kNamespaces, "", ns);
  REQUIRE(still.ok());
  CHECK(JsonAt(*still, {"metadata", "deletionTimestamp"}) == nullptr);
  CHECK(ObjectNames(*admin, kSecrets, ns).empty());  // the login Secret was kim's
  CHECK(admin->Delete(kNamespaces, "", ns).ok());
}

TEST_CASE("the read-only user gets errors naming the missing RBAC permission", "[kube][rbac]") {
  const std::string readonly = PeerEnv("KIM_TEST_KUBECONFIG_READONLY");
  auto client = KubeClient(readonly);
  auto namespaces = client->List(kNamespaces, "");
  CHECK(namespaces.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(namespaces.status().message() ==
        "cannot list namespaces: forbidden for user \"kim-readonly\" (needs RBAC verb \"list\" on "
        "\"namespaces\")");
  auto install = Kim({"-k", readonly, "-n", "kim-readonly", "system", "install", "--no-wait"});
  CHECK(install.exit_code == 1);
  CHECK(install.err ==
        "Error: cannot list nodes: forbidden for user \"kim-readonly\" (needs RBAC verb \"list\" "
        "on \"nodes\")\n");
  auto login = Kim({"-k", readonly, "-n", "kim-readonly", "system", "login", "-u", "u",
                    "--password-stdin", "r.example.com"}, "pw\n");
  CHECK(login.exit_code == 1);
  CHECK(login.err.find("cannot create secrets \"kim-docker-config\" in namespace \"kim-readonly\": "
                       "forbidden for user \"kim-readonly\" (needs RBAC verb \"create\" on "
                       "\"secrets\" in namespace \"kim-readonly\")") != std::string::npos);
  // Reading is allowed there: info says plainly that nothing is installed.
  auto info = Kim({"-k", readonly, "-n", "kim-readonly", "system", "info"});
  CHECK(info.exit_code == 1);
  CHECK(info.err == "Error: kim is not installed in namespace \"kim-readonly\": run \"kim system install\"\n");
}

// The admin kubeconfig's parts.
struct AdminParts {
  std::string server, ca_data, cert_data, key_data;
};
AdminParts ReadAdmin() {
  const YAML::Node config = YAML::LoadFile(PeerEnv("KIM_TEST_KUBECONFIG"));
  AdminParts parts;
  parts.server = config["clusters"][0]["cluster"]["server"].as<std::string>();
  parts.ca_data = config["clusters"][0]["cluster"]["certificate-authority-data"].as<std::string>();
  parts.cert_data = config["users"][0]["user"]["client-certificate-data"].as<std::string>();
  parts.key_data = config["users"][0]["user"]["client-key-data"].as<std::string>();
  return parts;
}

TEST_CASE("an exec credential plugin kubeconfig works and the plugin runs once",
          "[kube][kubeconfig]") {
  const AdminParts admin = ReadAdmin();
  TempDir dir;
  std::string cert, key;
  REQUIRE(absl::Base64Unescape(admin.cert_data, &cert));
  REQUIRE(absl::Base64Unescape(admin.key_data, &key));
  dir.Write("cert.pem", cert);
  dir.Write("key.pem", key);
  // The plugin hands out the admin's client certificate, JSON-escaped by python3.
  dir.Write("plugin", absl::StrCat(
      "#!/bin/sh\necho run >> \"$PLUGIN_COUNT\"\nexec python3 -c '\n"
      "import json, os, sys\nd = os.path.dirname(sys.argv[1])\n"
      "print(json.dumps({\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\",\n"
      "  \"status\": {\"clientCertificateData\": open(d + \"/cert.pem\").read(),\n"
      "             \"clientKeyData\": open(d + \"/key.pem\").read(),\n"
      "             \"expirationTimestamp\": \"2099-01-01T00:00:00Z\"}}))' \"$0\"\n"), 0755);
  const std::string kubeconfig = dir.Write("config", absl::StrCat(
      "apiVersion: v1\nkind: Config\ncurrent-context: exec\nclusters:\n- name: c\n  cluster:\n"
      "    server: ", admin.server, "\n    certificate-authority-data: ", admin.ca_data, "\n"
      "users:\n- name: plugin-user\n  user:\n    exec:\n"
      "      apiVersion: client.authentication.k8s.io/v1\n      command: ./plugin\n"
      "      env:\n      - name: PLUGIN_COUNT\n        value: ", dir.path(), "/count\n"
      "      interactiveMode: Never\n"
      "contexts:\n- name: exec\n  context:\n    cluster: c\n    user: plugin-user\n"));
  auto client = KubeClient(kubeconfig);
  REQUIRE(client->List(kNodes, "").ok());
  REQUIRE(client->List(kNamespaces, "").ok());
  std::ifstream count(dir.path() + "/count");
  std::string line;
  int runs = 0;
  while (std::getline(count, line)) ++runs;
  CHECK(runs == 1);

  // And through the binary: login/logout in a fresh namespace with this kubeconfig.
  const std::string ns = UniqueName("kim-it-exec");
  auto login = Kim({"-k", kubeconfig, "-n", ns, "system", "login", "-u", "me", "--password-stdin",
                    "registry.example.com:5000"}, "secret\n");
  REQUIRE(login.exit_code == 0);
  CHECK(login.out == "Login Succeeded\n");
  auto admin_client = KubeAdmin();
  auto secret = admin_client->Get(kSecrets, ns, kDockerConfigSecret);
  REQUIRE(secret.ok());
  CHECK(JsonString(*secret, {"type"}) == "kubernetes.io/dockerconfigjson");
  std::string docker_config;
  REQUIRE(absl::Base64Unescape(JsonString(*secret, {"data", ".dockerconfigjson"}), &docker_config));
  Json parsed = Json::parse(docker_config);
  CHECK(JsonString(parsed, {"auths", "registry.example.com:5000", "username"}) == "me");
  CHECK(JsonString(parsed, {"auths", "registry.example.com:5000", "password"}) == "secret");
  CHECK(JsonString(parsed, {"auths", "registry.example.com:5000", "auth"}) == absl::Base64Escape("me:secret"));
  REQUIRE(Kim({"-k", kubeconfig, "-n", ns, "system", "login", "-u", "hub", "--password-stdin"}, "h\n").exit_code == 0);
  REQUIRE(Kim({"-k", kubeconfig, "-n", ns, "system", "logout", "registry.example.com:5000"}).exit_code == 0);
  REQUIRE(absl::Base64Unescape(JsonString(*admin_client->Get(kSecrets, ns, kDockerConfigSecret), {"data", ".dockerconfigjson"}), &docker_config));
  parsed = Json::parse(docker_config);
  CHECK_FALSE(parsed.at("auths").has_field("registry.example.com:5000"));
  CHECK(JsonString(parsed, {"auths", "https://index.docker.io/v1/", "username"}) == "hub");
  auto again = Kim({"-k", kubeconfig, "-n", ns, "system", "logout", "registry.example.com:5000"});
  CHECK(again.exit_code == 1);
  CHECK(again.err == "Error: not logged in to registry.example.com:5000\n");
  REQUIRE(Kim({"-k", kubeconfig, "-n", ns, "system", "logout"}).exit_code == 0);
  CHECK(absl::IsNotFound(admin_client->Get(kSecrets, ns, kDockerConfigSecret).status()));
  CHECK(admin_client->Delete(kNamespaces, "", ns).ok());
}

TEST_CASE("a KUBECONFIG of several files works", "[kube][kubeconfig]") {
  const AdminParts admin = ReadAdmin();
  TempDir dir;
  const std::string clusters = dir.Write("clusters.yaml", absl::StrCat(
      "apiVersion: v1\nkind: Config\ncurrent-context: split\nclusters:\n- name: c\n  cluster:\n"
      "    server: ", admin.server, "\n    certificate-authority-data: ", admin.ca_data, "\n"
      "contexts:\n- name: split\n  context:\n    cluster: c\n    user: admin\n"));
  const std::string users = dir.Write("users.yaml", absl::StrCat(
      "apiVersion: v1\nkind: Config\ncurrent-context: nothing-here\nusers:\n- name: admin\n  user:\n"
      "    client-certificate-data: ", admin.cert_data, "\n    client-key-data: ", admin.key_data,
      "\n"));
  const std::string ns = UniqueName("kim-it-split");
  // No -k: the variable is used, clusters.yaml's current-context wins.
  auto login = Kim({"-n", ns, "system", "login", "-u", "me", "--password-stdin", "r.example.com"},
                   "pw\n", {{"KUBECONFIG", clusters + ":" + dir.path() + "/absent.yaml:" + users},
                            {"HOME", dir.path()}});
  REQUIRE(login.exit_code == 0);
  auto admin_client = KubeAdmin();
  REQUIRE(admin_client->Get(kSecrets, ns, kDockerConfigSecret).ok());
  CHECK(admin_client->Delete(kNamespaces, "", ns).ok());

  // Reversed, users.yaml's current-context names nothing.
  auto reversed = Kim({"-n", ns, "system", "info"}, "",
                      {{"KUBECONFIG", users + ":" + clusters}, {"HOME", dir.path()}});
  CHECK(reversed.exit_code == 1);
  CHECK(reversed.err == "Error: context \"nothing-here\" does not exist in kubeconfig (" + users +
                            ":" + clusters + ")\n");
}

TEST_CASE("bad YAML, a missing file and a wrong CA fail clearly", "[kube][kubeconfig]") {
  const AdminParts admin = ReadAdmin();
  TempDir dir;
  const std::string bad = dir.Write("bad.yaml", "apiVersion: v1\nclusters:\n- name: [oops\n");
  auto out = Kim({"-k", bad, "system", "info"});
  CHECK(out.exit_code == 1);
  CHECK(out.err.starts_with("Error: kubeconfig \"" + bad + "\": invalid YAML at line "));

  out = Kim({"-k", dir.path() + "/nothing.yaml", "system", "info"});
  CHECK(out.exit_code == 1);
  CHECK(out.err == "Error: kubeconfig \"" + dir.path() + "/nothing.yaml\": no such file\n");

  out = Kim({"-k", PeerEnv("KIM_TEST_KUBECONFIG"), "-x", "no-such-context", "system", "info"});
  CHECK(out.exit_code == 1);
  CHECK(out.err.find("context \"no-such-context\" does not exist") != std::string::npos);

  auto other_ca = NewCertificateAuthority("not-the-cluster-ca", absl::Hours(1));
  REQUIRE(other_ca.ok());
  const std::string wrong = dir.Write("wrong-ca.yaml", absl::StrCat(
      "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: c\n  cluster:\n"
      "    server: ", admin.server, "\n    certificate-authority-data: ",
      absl::Base64Escape(other_ca->cert_pem), "\nusers:\n- name: u\n  user:\n"
      "    client-certificate-data: ", admin.cert_data, "\n    client-key-data: ", admin.key_data,
      "\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n"));
  out = Kim({"-k", wrong, "-n", "kube-image", "system", "info"});
  CHECK(out.exit_code == 1);
  CHECK(out.err.find("Error: cannot get daemonsets \"builder\" in namespace \"kube-image\": cannot reach ") == 0);
  CHECK(out.err.find("certificate-authority") != std::string::npos);

  // tls-server-name: the right CA but a URL whose host is not in the certificate.
  std::string server = admin.server;
  const std::string ip = "127.0.0.1";
  if (server.find(ip) != std::string::npos) {
    server.replace(server.find(ip), ip.size(), "localhost");
    // Certificates for 127.0.0.1 only: "localhost" fails, unless tls-server-name says 127.0.0.1.
    const std::string named = dir.Write("named.yaml", absl::StrCat(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: c\n  cluster:\n"
        "    server: ", server, "\n    certificate-authority-data: ", admin.ca_data,
        "\n    tls-server-name: 127.0.0.1\nusers:\n- name: u\n  user:\n"
        "    client-certificate-data: ", admin.cert_data, "\n    client-key-data: ", admin.key_data,
        "\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n"));
    auto client = KubeClient(named);
    auto nodes = client->List(kNodes, "");
    INFO(nodes.status());
    CHECK(nodes.ok());
  }
}

}  // namespace
}  // namespace kim::kube
