// `kim system install` on several nodes against a real kube-apiserver + etcd: builder nodes
// chosen by --selector, agent-only DaemonSets per containerd layout on the other nodes, the
// runtime labels, Endpoints with every builder, the server certificate (clientAuth, every node's
// addresses), the wait for every node's pod, discovery of every agent (DiscoverAgents,
// FindAgentPod), `kim system info`'s NODES table, and uninstall. There is no kubelet or
// controller: the test creates the Node objects, the pods the DaemonSet controller would, and
// writes the statuses the kubelet would.
// peers: kube-apiserver
// lock: builder-node-role
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/client.h"
#include "lib/kube/installer.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/pki.h"
#include "test/support/kube_cluster.h"
#include "test/support/peers.h"

namespace kim::kube {
namespace {

using kim::test::CreateDaemonSetPod;
using kim::test::CreateNode;
using kim::test::Kim;
using kim::test::KubeAdmin;
using kim::test::ObjectNames;
using kim::test::PeerEnv;
using kim::test::ReleaseNamespace;
using kim::test::SecretField;
using kim::test::SetPodReady;
using kim::test::SetPodStatus;
using kim::test::UniqueName;

// The cluster of this test: two k3s builder candidates, a stock containerd node, another k3s
// node, a docker node and a stock node whose kubelet does not report Ready.
struct Cluster {
  std::string b1 = UniqueName("kim-mn-b1"), b2 = UniqueName("kim-mn-b2");
  std::string a1 = UniqueName("kim-mn-a1"), a2 = UniqueName("kim-mn-a2");
  std::string docker = UniqueName("kim-mn-d"), down = UniqueName("kim-mn-n");
  std::string role = UniqueName("kim-mn-role");  // the value of label kim-test/builder
  std::vector<std::string> All() const { return {b1, b2, a1, a2, docker, down}; }
};

// Rewrites node `name`'s status (runtime version, Ready condition) and adds labels, as its kubelet
// and an admin would.
void ShapeNode(Client& client, const std::string& name, const std::string& runtime, bool ready,
               const std::map<std::string, std::string>& labels = {}) {
  auto node = client.Get(kNodes, "", name);
  REQUIRE(node.ok());
  (*node)["status"]["nodeInfo"]["containerRuntimeVersion"] = Json::string(runtime);
  if (ready) {
    Json condition = Json::object();
    condition["type"] = Json::string("Ready");
    condition["status"] = Json::string("True");
    (*node)["status"]["conditions"] = Json::array({condition});
  }
  auto updated = client.Update(kNodes, "", *node, "status");
  INFO(updated.status());
  REQUIRE(updated.ok());
  for (const auto& [key, value] : labels) {
    Json patch = Json::object();
    patch["metadata"]["labels"][key] = Json::string(value);
    REQUIRE(client.MergePatch(kNodes, "", name, patch).ok());
  }
}

void MakeCluster(Client& admin, const Cluster& c) {
  const std::vector<std::tuple<std::string, std::string, std::string, bool>> nodes = {
      {c.b1, "10.11.13.1", "containerd://2.1.5-k3s1", true},
      {c.b2, "10.11.13.2", "containerd://1.7.21-k3s1", true},
      {c.a1, "10.11.13.3", "containerd://1.7.12", true},
      {c.a2, "10.11.13.4", "containerd://2.1.5-k3s1", true},
      {c.docker, "10.11.13.5", "docker://20.10.7", true},
      {c.down, "10.11.13.6", "containerd://1.7.12", false}};
  for (const auto& [name, ip, runtime, ready] : nodes) {
    CreateNode(admin, name, ip);
    std::map<std::string, std::string> labels;
    if (name == c.b1 || name == c.b2) labels["kim-test/builder"] = c.role;
    ShapeNode(admin, name, runtime, ready, labels);
  }
}

std::string NodeLabel(Client& client, const std::string& node, const std::string& key) {
  auto object = client.Get(kNodes, "", node);
  REQUIRE(object.ok());
  return JsonString(*object, {"metadata", "labels", key.c_str()});
}

// Writes the pod's status.hostIP, as the kubelet does (hostNetwork: the node's address).
void SetHostIp(Client& client, const Json& pod, const std::string& host_ip) {
  const std::string ns = JsonString(pod, {"metadata", "namespace"});
  auto current = client.Get(kPods, ns, JsonString(pod, {"metadata", "name"}));
  REQUIRE(current.ok());
  (*current)["status"]["hostIP"] = Json::string(host_ip);
  REQUIRE(client.Update(kPods, ns, *current, "status").ok());
}

// A running agent-only pod with its one container ready, on a node whose address is `host_ip`.
void SetAgentPodReady(Client& client, const Json& pod, const std::string& host_ip) {
  SetPodStatus(client, pod, "Running", {}, {{.name = "agent", .ready = true}});
  SetHostIp(client, pod, host_ip);
}

// A running builder pod with every container ready, on a node whose address is `host_ip`.
void SetBuilderPodReady(Client& client, const Json& pod, const std::string& host_ip) {
  SetPodReady(client, pod);
  SetHostIp(client, pod, host_ip);
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The cells (split at spaces) of the line of `text` that starts with `first`.
std::vector<std::string> Row(const std::string& text, const std::string& first) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(first + " ", 0) != 0) continue;
    std::istringstream words(line);
    std::vector<std::string> cells;
    for (std::string word; words >> word;) cells.push_back(word);
    return cells;
  }
  return {};
}

TEST_CASE("install on several nodes: builders by --selector, agents per containerd layout",
          "[kube][install][multinode]") {
  auto admin = KubeAdmin();
  const std::string kubeconfig = PeerEnv("KIM_TEST_KUBECONFIG");
  const std::string ns = UniqueName("kim-it-mn");
  const Cluster c;
  MakeCluster(*admin, c);
  const std::string selector = "kim-test/builder=" + c.role;

  // 1. Without waiting: what is created, and the node labels.
  auto first = Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait", "--selector", selector});
  REQUIRE(first.exit_code == 0);
  CHECK(Has(first.err, "Applying node-role `builder` to node `" + c.b1 + "`"));
  CHECK(Has(first.err, "Applying node-role `builder` to node `" + c.b2 + "`"));
  CHECK(Has(first.err, "WARNING: node `" + c.docker + "` is left out: container runtime \"docker\""));
  CHECK(Has(first.err, "Agent DaemonSet `agent-containerd` for nodes `" + c.a1 + "`, `" + c.down + "`"));
  CHECK(ObjectNames(*admin, kDaemonSets, ns) ==
        std::set<std::string>{"builder", "agent-containerd", "agent-k3s"});
  CHECK(NodeLabel(*admin, c.b1, kBuilderNodeLabel) == "true");
  CHECK(NodeLabel(*admin, c.b2, kBuilderNodeLabel) == "true");
  CHECK(NodeLabel(*admin, c.a1, kBuilderNodeLabel).empty());
  CHECK(NodeLabel(*admin, c.b1, kRuntimeNodeLabel) == "k3s");
  CHECK(NodeLabel(*admin, c.b2, kRuntimeNodeLabel) == "k3s");
  CHECK(NodeLabel(*admin, c.a1, kRuntimeNodeLabel) == "containerd");
  CHECK(NodeLabel(*admin, c.a2, kRuntimeNodeLabel) == "k3s");
  CHECK(NodeLabel(*admin, c.down, kRuntimeNodeLabel) == "containerd");
  CHECK(NodeLabel(*admin, c.docker, kRuntimeNodeLabel).empty());
  auto agent_ds = admin->Get(kDaemonSets, ns, "agent-containerd");
  REQUIRE(agent_ds.ok());
  CHECK(JsonString(*agent_ds, {"spec", "template", "spec", "nodeSelector", kRuntimeNodeLabel}) ==
        "containerd");
  CHECK(JsonString(*agent_ds, {"spec", "template", "metadata", "labels", kComponentLabel}) == "agent");

  // Endpoints: both builders, with their addresses; discovery keeps the first as `host`.
  auto endpoint = DiscoverBuilder(*admin, ns);
  INFO(endpoint.status());
  REQUIRE(endpoint.ok());
  REQUIRE(endpoint->builders.size() == 2);
  CHECK(endpoint->builders[0].node == c.b1);
  CHECK(endpoint->builders[0].host == "10.11.13.1");
  CHECK(endpoint->builders[1].node == c.b2);
  CHECK(endpoint->builders[1].host == "10.11.13.2");
  CHECK(endpoint->host == "10.11.13.1");
  CHECK(endpoint->node_name == c.b1);

  // The server certificate: both usages, every served node's address, not the docker node's.
  auto cert = InspectCertificate(SecretField(*admin, ns, kServerSecret, "tls.crt"));
  REQUIRE(cert.ok());
  CHECK(cert->server_auth);
  CHECK(cert->client_auth);
  const std::set<std::string> ips(cert->ip_addresses.begin(), cert->ip_addresses.end());
  for (const char* ip : {"10.11.13.1", "10.11.13.2", "10.11.13.3", "10.11.13.4", "10.11.13.6"}) {
    CHECK(ips.count(ip) == 1);
  }
  CHECK(ips.count("10.11.13.5") == 0);
  const std::set<std::string> dns(cert->dns_names.begin(), cert->dns_names.end());
  CHECK(dns.count(c.a2) == 1);
  CHECK(dns.count("builder." + ns + ".svc") == 1);

  // 2. With waiting: the install ends only once every Ready node's pod is ready.
  std::vector<std::string> lines;
  InstallOptions options{.selector = selector, .timeout = absl::Seconds(40)};
  options.progress = [&lines](std::string_view line) { lines.emplace_back(line); };
  auto installer = NewKubeInstaller(admin, ns);
  auto install = std::async(std::launch::async, [&] { return installer->Install(options); });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const Json pod_b1 = CreateDaemonSetPod(*admin, ns, "builder", c.b1);
  const Json pod_b2 = CreateDaemonSetPod(*admin, ns, "builder", c.b2);
  SetBuilderPodReady(*admin, pod_b1, "10.11.13.1");
  SetBuilderPodReady(*admin, pod_b2, "10.11.13.2");
  const Json pod_a1 = CreateDaemonSetPod(*admin, ns, "agent-containerd", c.a1);
  SetPodStatus(*admin, pod_a1, "Pending", {},
               {{.name = "agent", .state = R"({"waiting":{"reason":"ContainerCreating"}})"}});
  // Builders ready, agents not: still waiting.
  CHECK(install.wait_for(std::chrono::milliseconds(1500)) == std::future_status::timeout);
  SetAgentPodReady(*admin, pod_a1, "10.11.13.3");
  const Json pod_a2 = CreateDaemonSetPod(*admin, ns, "agent-k3s", c.a2);
  SetAgentPodReady(*admin, pod_a2, "10.11.13.4");
  const absl::Status installed = install.get();
  const std::string all = absl::StrJoin(lines, "\n");
  INFO(all);
  REQUIRE(installed.ok());
  CHECK(Has(all, "Builder daemon is up to date"));
  CHECK(Has(all, "Not waiting for the agent on node `" + c.down + "`: the node is not Ready"));
  CHECK(Has(all, "Waiting for kim's pods ("));
  CHECK(Has(all, "node `" + c.a1 + "` (agent): pod agent-containerd-"));
  CHECK(Has(all, ": container \"agent\": ContainerCreating"));
  CHECK(Has(all, "Builder ready on 2 nodes: " + c.b1 + " (10.11.13.1), " + c.b2 + " (10.11.13.2)"));
  CHECK(Has(all, "Agents ready on " + c.a1 + ", " + c.a2));

  // 3. Discovery of every agent, one per node (the ready one during a rollout), by node name.
  const Json stale = CreateDaemonSetPod(*admin, ns, "agent-containerd", c.a1);  // not ready
  auto agents = DiscoverAgents(*admin, ns);
  INFO(agents.status());
  REQUIRE(agents.ok());
  std::vector<std::string> seen;
  for (const AgentEndpoint& agent : *agents) {
    if (agent.node.rfind("kim-mn-", 0) == 0) seen.push_back(agent.node);
  }
  CHECK(seen == std::vector<std::string>{c.a1, c.a2, c.b1, c.b2});
  for (const AgentEndpoint& agent : *agents) {
    INFO(agent.node);
    CHECK(agent.port == 1233);
    CHECK(agent.ready);
    if (agent.node == c.a1) {
      CHECK(agent.pod == JsonString(pod_a1, {"metadata", "name"}));
      CHECK(agent.host == "10.11.13.3");
      CHECK_FALSE(agent.builder);
    }
    if (agent.node == c.b2) {
      CHECK(agent.pod == JsonString(pod_b2, {"metadata", "name"}));
      CHECK(agent.builder);
    }
  }
  auto a1_pod = FindAgentPod(*admin, ns, c.a1);
  REQUIRE(a1_pod.ok());
  CHECK(*a1_pod == JsonString(pod_a1, {"metadata", "name"}));
  auto b1_pod = FindAgentPod(*admin, ns, c.b1);
  REQUIRE(b1_pod.ok());
  CHECK(*b1_pod == JsonString(pod_b1, {"metadata", "name"}));
  auto none = FindAgentPod(*admin, ns, c.docker);
  CHECK(none.status().code() == absl::StatusCode::kUnavailable);
  CHECK(none.status().message() == "no running kim pod on node \"" + c.docker + "\" in namespace \"" +
                                       ns + "\" to open a tunnel to (see \"kim system info\")");
  CHECK(absl::IsNotFound(DiscoverAgents(*admin, ns + "-absent").status()));
  REQUIRE(admin->Delete(kPods, ns, JsonString(stale, {"metadata", "name"})).ok());

  // 4. info: every served node with its role, runtime, agent version and readiness.
  auto info = installer->Info();
  REQUIRE(info.ok());
  CHECK(info->nodes == std::vector<std::string>{c.b1, c.b2});
  CHECK(info->ready == 2);
  std::map<std::string, NodeStatus> by_name;
  for (const NodeStatus& node : info->node_status) by_name[node.name] = node;
  for (const std::string& name : {c.b1, c.b2, c.a1, c.a2, c.down}) CHECK(by_name.count(name) == 1);
  CHECK(by_name.count(c.docker) == 0);
  CHECK(by_name[c.b1].role == "builder");
  CHECK(by_name[c.a1].role == "agent");
  CHECK(by_name[c.a1].runtime == "containerd://1.7.12");
  CHECK(by_name[c.a1].kubelet_version == "v1.34.4+k3s1");
  CHECK(by_name[c.a1].agent_version == info->agent_version);
  CHECK(by_name[c.a1].ready);
  CHECK(by_name[c.b2].ready);
  CHECK_FALSE(by_name[c.down].ready);
  CHECK(by_name[c.down].message == "no pod yet");
  // Through the binary (pointed at this machine: nothing may be sent to the fake addresses).
  auto service = admin->Get(kServices, ns, kBuilderName);
  REQUIRE(service.ok());
  (*service)["metadata"]["annotations"][kEndpointOverrideAnnotation] = Json::string("127.0.0.1");
  REQUIRE(admin->Update(kServices, ns, *service).ok());
  auto printed = Kim({"-k", kubeconfig, "-n", ns, "--tunnel", "never", "system", "info"});
  REQUIRE(printed.exit_code == 0);
  CHECK(Has(printed.out, "Builder node:  " + c.b1 + ", " + c.b2));
  CHECK(Has(printed.out, "Ready:         2/2"));
  CHECK(Has(printed.out, "Nodes:\nNAME "));
  CHECK(Row(printed.out, "NAME") == std::vector<std::string>{"NAME", "ROLE", "RUNTIME", "AGENT", "READY"});
  CHECK(Row(printed.out, c.a1) ==
        std::vector<std::string>{c.a1, "agent", "containerd://1.7.12", info->agent_version, "true"});
  CHECK(Row(printed.out, c.b1) ==
        std::vector<std::string>{c.b1, "builder", "containerd://2.1.5-k3s1", info->agent_version, "true"});
  CHECK(Row(printed.out, c.down) == std::vector<std::string>{c.down, "agent", "containerd://1.7.12",
                                                             info->agent_version, "false", "(no",
                                                             "pod", "yet)"});
  CHECK(Row(printed.out, c.docker).empty());

  // 5. The builder role moves to one node: the other becomes an agent node, Endpoints follow.
  const std::string only_b1 = "kubernetes.io/hostname=" + c.b1;
  auto moved = Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait", "--selector", only_b1});
  REQUIRE(moved.exit_code == 0);
  CHECK(Has(moved.err, "Removing node-role `builder` from node `" + c.b2 + "`"));
  CHECK(NodeLabel(*admin, c.b2, kBuilderNodeLabel).empty());
  CHECK(NodeLabel(*admin, c.b2, kRuntimeNodeLabel) == "k3s");
  endpoint = DiscoverBuilder(*admin, ns);
  REQUIRE(endpoint.ok());
  REQUIRE(endpoint->builders.size() == 1);
  CHECK(endpoint->builders[0].node == c.b1);

  // 6. Two builder layouts cannot share one builder DaemonSet.
  auto mixed = Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait", "--selector",
                    "kubernetes.io/hostname in (" + c.b1 + "," + c.a1 + ")"});
  CHECK(mixed.exit_code == 1);
  CHECK(Has(mixed.err, "Error: the builder nodes do not share one containerd layout: "));
  CHECK(Has(mixed.err, c.a1 + " (containerd://1.7.12: /run/containerd/containerd.sock"));

  // 7. A server certificate of an older kim (serverAuth only) is renewed.
  {
    auto ca = admin->Get(kSecrets, ns, kCaSecret);
    REQUIRE(ca.ok());
    const KeyPair ca_pair{SecretField(*admin, ns, kCaSecret, "tls.crt"),
                          SecretField(*admin, ns, kCaSecret, "tls.key")};
    auto old_cert = InspectCertificate(SecretField(*admin, ns, kServerSecret, "tls.crt"));
    REQUIRE(old_cert.ok());
    auto server_only = IssueCertificate(ca_pair, {.common_name = "kim-builder",
                                                  .dns_names = old_cert->dns_names,
                                                  .ip_addresses = old_cert->ip_addresses,
                                                  .server_auth = true});
    REQUIRE(server_only.ok());
    auto secret = admin->Get(kSecrets, ns, kServerSecret);
    REQUIRE(secret.ok());
    (*secret)["data"]["tls.crt"] = Json::string(absl::Base64Escape(server_only->cert_pem));
    (*secret)["data"]["tls.key"] = Json::string(absl::Base64Escape(server_only->key_pem));
    REQUIRE(admin->Update(kSecrets, ns, *secret).ok());
    auto renewed = Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait", "--selector", only_b1});
    REQUIRE(renewed.exit_code == 0);
    CHECK(Has(renewed.err, "Renewing the server certificate (agents now dial each other)"));
    auto now = InspectCertificate(SecretField(*admin, ns, kServerSecret, "tls.crt"));
    REQUIRE(now.ok());
    CHECK(now->client_auth);
  }

  // 8. --containerd-socket: one custom layout everywhere; the other agent DaemonSets go.
  auto custom = Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait", "--selector",
                     only_b1, "--containerd-socket", "/run/custom/containerd.sock"});
  REQUIRE(custom.exit_code == 0);
  CHECK(Has(custom.err, "Deleted DaemonSet `agent-k3s`"));
  CHECK(ObjectNames(*admin, kDaemonSets, ns) == std::set<std::string>{"builder", "agent-custom"});
  CHECK(NodeLabel(*admin, c.a1, kRuntimeNodeLabel) == "custom");
  CHECK(NodeLabel(*admin, c.docker, kRuntimeNodeLabel) == "custom");  // served, by the flag

  // 9. --force deletes and recreates the agent DaemonSets too.
  auto before = admin->Get(kDaemonSets, ns, "agent-custom");
  REQUIRE(before.ok());
  auto forced = Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait", "--force",
                     "--selector", only_b1, "--containerd-socket", "/run/custom/containerd.sock"});
  REQUIRE(forced.exit_code == 0);
  auto after = admin->Get(kDaemonSets, ns, "agent-custom");
  REQUIRE(after.ok());
  CHECK(JsonString(*after, {"metadata", "uid"}) != JsonString(*before, {"metadata", "uid"}));

  // 10. Uninstall: the agent DaemonSets and every node label kim wrote are gone.
  auto removed = Kim({"-k", kubeconfig, "-n", ns, "system", "uninstall", "--no-wait"});
  REQUIRE(removed.exit_code == 0);
  CHECK(Has(removed.err, "Removing label `kim.rancher.io/runtime` from node `" + c.a1 + "`"));
  for (const std::string& name : c.All()) {
    INFO(name);
    CHECK(NodeLabel(*admin, name, kRuntimeNodeLabel).empty());
    CHECK(NodeLabel(*admin, name, kBuilderNodeLabel).empty());
  }
  CHECK(ObjectNames(*admin, kDaemonSets, ns).empty());
  ReleaseNamespace(*admin, ns);
  for (const std::string& name : c.All()) (void)admin->Delete(kNodes, "", name);
}

}  // namespace
}  // namespace kim::kube
