// Tests for lib/kube/install_nodes.h: which nodes are builders, which get an agent of which
// containerd layout, which are left out, and the errors that say how to choose. Also the server
// certificate's extended key usages (lib/kube/pki.h), which agents dialing agents rely on.
#include "lib/kube/install_nodes.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/pki.h"

namespace kim::kube {
namespace {

// A Node object as a kubelet registers it.
std::string NodeJson(const std::string& name, const std::string& runtime, const std::string& ip,
                     const std::string& ready = "True", const std::string& labels = "{}") {
  return absl::StrCat(
      R"({"metadata":{"name":")", name, R"(","labels":)", labels, R"(},"status":{)",
      R"("nodeInfo":{"containerRuntimeVersion":")", runtime, R"("},)",
      R"("conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":")", ready,
      R"("}],"addresses":[{"type":"InternalIP","address":")", ip,
      R"("},{"type":"Hostname","address":")", name, R"(.example"}]}})");
}

Json NodeList(const std::vector<std::string>& nodes) {
  return Json::parse(absl::StrCat(R"({"items":[)", absl::StrJoin(nodes, ","), "]}"));
}

std::vector<std::string> Names(const std::vector<ServedNode>& nodes) {
  std::vector<std::string> names;
  for (const ServedNode& node : nodes) names.push_back(node.name);
  return names;
}

const Json kCluster = NodeList({
    NodeJson("node-c", "containerd://2.1.5-k3s1", "10.0.0.3"),
    NodeJson("node-a", "containerd://1.6.20", "10.0.0.1", "True",
             R"({"node-role.kubernetes.io/builder":"true","kim.rancher.io/runtime":"containerd"})"),
    NodeJson("node-b", "containerd://1.7.12", "10.0.0.2", "False"),
    NodeJson("node-d", "docker://20.10.7", "10.0.0.4"),
    NodeJson("node-e", "containerd://1.7.21-k3s1", "10.0.0.5"),
});

TEST_CASE("reading a Node: addresses, names, readiness, kim's labels", "[kube][install-nodes]") {
  const ServedNode node = ReadNode(kCluster.at("items").at(1));
  CHECK(node.name == "node-a");
  CHECK(node.address == "10.0.0.1");
  CHECK(node.ips == std::vector<std::string>{"10.0.0.1"});
  CHECK(node.hostnames == std::vector<std::string>{"node-a", "node-a.example"});
  CHECK(node.runtime_version == "containerd://1.6.20");
  CHECK(node.ready);
  CHECK(node.builder_label);
  CHECK(node.runtime_label == "containerd");
  const ServedNode not_ready = ReadNode(kCluster.at("items").at(2));
  CHECK_FALSE(not_ready.ready);
  CHECK_FALSE(not_ready.builder_label);
  CHECK(not_ready.runtime_label.empty());
  // No Ready condition at all (a Node object nobody runs): not ready.
  CHECK_FALSE(ReadNode(Json::parse(R"({"metadata":{"name":"x"},"status":{}})")).ready);
}

TEST_CASE("builder nodes: every match of --selector, without one the only node",
          "[kube][install-nodes]") {
  auto one = ChooseBuilderNodes(NodeList({NodeJson("solo", "containerd://1.7.1", "10.0.0.9")}), "");
  REQUIRE(one.ok());
  CHECK(*one == std::set<std::string>{"solo"});
  auto several = ChooseBuilderNodes(kCluster, "kim=yes");
  REQUIRE(several.ok());
  CHECK(several->size() == 5);
  auto ambiguous = ChooseBuilderNodes(kCluster, "");
  CHECK(ambiguous.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ambiguous.status().message() ==
        "5 nodes match (node-a, node-b, node-c, node-d, node-e): choose builder nodes with "
        "--selector, e.g. --selector kubernetes.io/hostname=node-a (the other nodes get an agent)");
  auto none = ChooseBuilderNodes(NodeList({}), "kim=yes");
  CHECK(none.status().message() == "failed to select any nodes: none matches --selector \"kim=yes\"");
  CHECK(ChooseBuilderNodes(NodeList({}), "").status().message() == "the cluster has no nodes");
}

TEST_CASE("plan: the other containerd nodes get agents of their layout, docker is left out",
          "[kube][install-nodes]") {
  auto plan = PlanNodes(kCluster, {"node-a"}, {});
  INFO(plan.status());
  REQUIRE(plan.ok());
  CHECK(Names(plan->builders) == std::vector<std::string>{"node-a"});
  CHECK(plan->builders[0].runtime.flavour == "containerd");
  CHECK(plan->builders[0].runtime.volume == "/var/lib/containerd");
  CHECK(Names(plan->agents) == std::vector<std::string>{"node-b", "node-c", "node-e"});
  CHECK(plan->agents[0].runtime.flavour == "containerd");
  CHECK(plan->agents[1].runtime.flavour == "k3s");
  CHECK(plan->agents[1].runtime.socket == "/run/k3s/containerd/containerd.sock");
  CHECK(plan->agents[2].runtime.flavour == "k3s");
  CHECK_FALSE(plan->agents[0].ready);  // planned (labelled), but not waited for
  REQUIRE(plan->warnings.size() == 1);
  CHECK(plan->warnings[0] ==
        "WARNING: node `node-d` is left out: container runtime \"docker\" of node \"node-d\" is "
        "not supported: kim needs containerd (set --containerd-socket and --containerd-volume if "
        "the node's containerd is not where the runtime version says)");
  CHECK(plan->All().size() == 4);
  CHECK(plan->All()[0]->name == "node-a");
}

TEST_CASE("plan: several builder nodes must share one containerd layout", "[kube][install-nodes]") {
  auto same = PlanNodes(kCluster, {"node-c", "node-e"}, {});
  REQUIRE(same.ok());
  CHECK(Names(same->builders) == std::vector<std::string>{"node-c", "node-e"});
  CHECK(Names(same->agents) == std::vector<std::string>{"node-a", "node-b"});

  auto mixed = PlanNodes(kCluster, {"node-a", "node-c"}, {});
  CHECK(mixed.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(mixed.status().message() ==
        "the builder nodes do not share one containerd layout: node-a (containerd://1.6.20: "
        "/run/containerd/containerd.sock, /var/lib/containerd); node-c (containerd://2.1.5-k3s1: "
        "/run/k3s/containerd/containerd.sock, /var/lib/rancher/k3s/agent/containerd): choose "
        "builder nodes of one kind with --selector, or give --containerd-socket and "
        "--containerd-volume if they are the same on every builder node");
  // The flags make one layout of them.
  auto flagged = PlanNodes(kCluster, {"node-a", "node-c"},
                           {.socket = "/run/c.sock", .volume = "/var/lib/c"});
  REQUIRE(flagged.ok());
  CHECK(flagged->builders[1].runtime.flavour == "custom");
  CHECK(flagged->builders[1].runtime.socket == "/run/c.sock");
}

TEST_CASE("plan: a builder node without containerd or address is an error",
          "[kube][install-nodes]") {
  auto docker = PlanNodes(kCluster, {"node-d"}, {});
  CHECK(docker.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(docker.status().message().find("container runtime \"docker\" of node \"node-d\"") == 0);
  const Json no_address = Json::parse(
      R"({"items":[{"metadata":{"name":"n"},"status":{"nodeInfo":{"containerRuntimeVersion":"containerd://1.7.1"}}}]})");
  CHECK(PlanNodes(no_address, {"n"}, {}).status().message() ==
        "node \"n\" reports no InternalIP or ExternalIP address");
  CHECK(PlanNodes(kCluster, {"node-gone"}, {}).status().message() ==
        "builder node \"node-gone\" is gone");
}

TEST_CASE("runtime flags: custom layouts for builders, the socket alone for agents",
          "[kube][install-nodes]") {
  const ServedNode k3s = ReadNode(kCluster.at("items").at(0));
  const ServedNode docker = ReadNode(kCluster.at("items").at(3));
  auto volume_only = NodeRuntime(k3s, {.volume = "/data/containerd"}, true);
  REQUIRE(volume_only.ok());
  CHECK(volume_only->flavour == "custom");
  CHECK(volume_only->socket == "/run/k3s/containerd/containerd.sock");
  CHECK(volume_only->volume == "/data/containerd");
  // An agent mounts no containerd root: --containerd-volume leaves its layout as detected.
  auto agent = NodeRuntime(k3s, {.volume = "/data/containerd"}, false);
  REQUIRE(agent.ok());
  CHECK(agent->flavour == "k3s");
  auto socket = NodeRuntime(k3s, {.socket = "/run/other.sock"}, false);
  REQUIRE(socket.ok());
  CHECK(socket->flavour == "custom");
  CHECK(socket->socket == "/run/other.sock");
  // A docker node is served only when the flags say where its containerd is.
  CHECK_FALSE(NodeRuntime(docker, {.socket = "/run/c.sock"}, true).ok());
  CHECK(NodeRuntime(docker, {.socket = "/run/c.sock", .volume = "/var/lib/c"}, true).ok());
  CHECK(NodeRuntime(docker, {.socket = "/run/c.sock"}, false).ok());
  auto plan = PlanNodes(kCluster, {"node-a"}, {.socket = "/run/c.sock"});
  REQUIRE(plan.ok());
  CHECK(plan->warnings.empty());
  CHECK(plan->agents.size() == 4);
  for (const ServedNode& node : plan->agents) CHECK(node.runtime.flavour == "custom");
}

TEST_CASE("the server certificate serves and dials: serverAuth and clientAuth", "[kube][pki]") {
  auto ca = NewCertificateAuthority("test-ca", absl::Hours(1));
  REQUIRE(ca.ok());
  auto both = IssueCertificate(*ca, {.common_name = "s", .dns_names = {"builder.ns.svc"},
                                     .server_auth = true, .client_auth = true});
  REQUIRE(both.ok());
  auto info = InspectCertificate(both->cert_pem);
  REQUIRE(info.ok());
  CHECK(info->server_auth);
  CHECK(info->client_auth);
  auto server_only = IssueCertificate(*ca, {.common_name = "s", .server_auth = true});
  REQUIRE(server_only.ok());
  info = InspectCertificate(server_only->cert_pem);
  REQUIRE(info.ok());
  CHECK(info->server_auth);
  CHECK_FALSE(info->client_auth);
  info = InspectCertificate(ca->cert_pem);  // no extended key usage at all
  REQUIRE(info.ok());
  CHECK_FALSE(info->server_auth);
  CHECK_FALSE(info->client_auth);
}

}  // namespace
}  // namespace kim::kube
