// Discovery: where the installed builder listens and the client certificate for it, and every
// node's kim-agent as the pods tell it.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "lib/kube/builder_wait.h"
#include "lib/kube/installer.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/object_helpers.h"

namespace kim::kube {

absl::StatusOr<BuilderEndpoint> DiscoverBuilder(Client& client, const std::string& ns) {
  auto service = client.Get(kServices, ns, kBuilderName);
  if (absl::IsNotFound(service.status())) {
    return absl::NotFoundError(absl::StrCat("kim is not installed in namespace \"", ns,
                                            "\": run \"kim system install\""));
  }
  if (!service.ok()) return service.status();
  BuilderEndpoint endpoint;
  endpoint.server_name = absl::StrCat(kBuilderName, ".", ns, ".svc");
  const Json* ports = JsonAt(*service, {"spec", "ports"});
  if (ports != nullptr && ports->is_array()) {
    for (const Json& port : ports->as_array()) {
      const std::string name = JsonString(port, {"name"});
      if (name == kBuildkitPortName) endpoint.buildkit_port = static_cast<int>(JsonInt(port, {"port"}));
      if (name == kAgentPortName) endpoint.agent_port = static_cast<int>(JsonInt(port, {"port"}));
    }
  }
  auto endpoints = client.Get(kEndpoints, ns, kBuilderName);
  if (!endpoints.ok() && !absl::IsNotFound(endpoints.status())) return endpoints.status();
  if (endpoints.ok()) {
    const Json* subsets = JsonAt(*endpoints, {"subsets"});
    if (subsets != nullptr && subsets->is_array()) {
      for (const Json& subset : subsets->as_array()) {
        const Json* addresses = JsonAt(subset, {"addresses"});
        if (addresses == nullptr || !addresses->is_array() || addresses->size() == 0) continue;
        for (const Json& address : addresses->as_array()) {
          endpoint.builders.push_back(
              {JsonString(address, {"nodeName"}), JsonString(address, {"ip"})});
        }
        endpoint.host = endpoint.builders.front().host;
        endpoint.node_name = endpoint.builders.front().node;
        const Json* subset_ports = JsonAt(subset, {"ports"});
        if (subset_ports != nullptr && subset_ports->is_array()) {
          for (const Json& port : subset_ports->as_array()) {
            const std::string name = JsonString(port, {"name"});
            const int number = static_cast<int>(JsonInt(port, {"port"}));
            if (name == kBuildkitPortName) endpoint.buildkit_port = number;
            if (name == kAgentPortName) endpoint.agent_port = number;
          }
        }
        break;
      }
    }
  }
  const std::string override_addr =
      JsonString(*service, {"metadata", "annotations", kEndpointOverrideAnnotation});
  if (!override_addr.empty()) endpoint.host = override_addr;
  if (endpoint.host.empty()) {
    return absl::UnavailableError(absl::StrCat("the builder in namespace \"", ns,
                                               "\" has no endpoint yet (is it running? see "
                                               "\"kim system info\")"));
  }
  if (endpoint.buildkit_port == 0 || endpoint.agent_port == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "service \"builder\" in namespace \"", ns, "\" lacks the ports \"buildkit\" and \"kim\""));
  }
  auto secret = client.Get(kSecrets, ns, kClientSecret);
  if (!secret.ok()) return secret.status();
  endpoint.tls.cert = DecodedField(*secret, "tls.crt");
  endpoint.tls.key = DecodedField(*secret, "tls.key");
  endpoint.tls.ca = DecodedField(*secret, "ca.crt");
  if (endpoint.tls.ca.empty()) {  // written by an older install: the CA Secret's certificate
    auto ca = client.Get(kSecrets, ns, kCaSecret);
    if (absl::IsPermissionDenied(ca.status())) {  // kim-user rightly cannot read the CA key
      return absl::FailedPreconditionError(absl::StrCat(
          "secret \"", kClientSecret, "\" in namespace \"", ns, "\" was written by an older kim "
          "and lacks ca.crt; ask a cluster admin to run \"kim system install\", which adds it"));
    }
    if (!ca.ok()) return ca.status();
    endpoint.tls.ca = DecodedField(*ca, "tls.crt");
  }
  if (endpoint.tls.cert.empty() || endpoint.tls.key.empty() || endpoint.tls.ca.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("secret \"", kClientSecret, "\" in namespace \"",
                                                      ns, "\" is incomplete; run \"kim system install\""));
  }
  return endpoint;
}

namespace {

bool PodReady(const Json& pod) {
  const Json* conditions = JsonAt(pod, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return false;
  for (const Json& condition : conditions->as_array()) {
    if (JsonString(condition, {"type"}) == "Ready") return JsonString(condition, {"status"}) == "True";
  }
  return false;
}

// A running pod matching `selector` on `node_name` (any node when empty), a ready one first.
absl::StatusOr<std::string> FindRunningPod(Client& client, const std::string& ns,
                                           const std::string& node_name, const char* selector,
                                           const std::string& what) {
  ListOptions options{.label_selector = selector};
  if (!node_name.empty()) options.field_selector = absl::StrCat("spec.nodeName=", node_name);
  auto pods = client.List(kPods, ns, options);
  if (!pods.ok()) return pods.status();
  std::string running;
  const Json* items = JsonAt(*pods, {"items"});
  if (items != nullptr && items->is_array()) {
    for (const Json& pod : items->as_array()) {
      if (JsonAt(pod, {"metadata", "deletionTimestamp"}) != nullptr) continue;
      if (JsonString(pod, {"status", "phase"}) != "Running") continue;
      const std::string name = JsonString(pod, {"metadata", "name"});
      if (PodReady(pod)) return name;
      if (running.empty()) running = name;
    }
  }
  if (!running.empty()) return running;
  return absl::UnavailableError(absl::StrCat(
      "no running ", what, " pod", node_name.empty() ? "" : absl::StrCat(" on node \"", node_name, "\""),
      " in namespace \"", ns, "\" to open a tunnel to (see \"kim system info\")"));
}

}  // namespace

absl::StatusOr<std::string> FindBuilderPod(Client& client, const std::string& ns,
                                           const std::string& node_name) {
  return FindRunningPod(client, ns, node_name, kBuilderPodSelector, "builder");
}

absl::StatusOr<std::string> FindAgentPod(Client& client, const std::string& ns,
                                         const std::string& node_name) {
  return FindRunningPod(client, ns, node_name, kKimPodSelector, "kim");
}

absl::StatusOr<std::vector<AgentEndpoint>> DiscoverAgents(Client& client, const std::string& ns) {
  auto service = client.Get(kServices, ns, kBuilderName);
  if (absl::IsNotFound(service.status())) {
    return absl::NotFoundError(absl::StrCat("kim is not installed in namespace \"", ns,
                                            "\": run \"kim system install\""));
  }
  if (!service.ok()) return service.status();
  int port = 0;
  const Json* ports = JsonAt(*service, {"spec", "ports"});
  if (ports != nullptr && ports->is_array()) {
    for (const Json& each : ports->as_array()) {
      if (JsonString(each, {"name"}) == kAgentPortName) port = static_cast<int>(JsonInt(each, {"port"}));
    }
  }
  auto pods = client.List(kPods, ns, {.label_selector = kKimPodSelector});
  if (!pods.ok()) return pods.status();
  std::map<std::string, AgentEndpoint> by_node;  // sorted by node name
  for (const Json& pod : pods->at("items").as_array()) {
    AgentEndpoint agent{.node = JsonString(pod, {"spec", "nodeName"}),
                        .host = JsonString(pod, {"status", "hostIP"}),
                        .port = port,
                        .pod = JsonString(pod, {"metadata", "name"}),
                        .builder = Label(pod, kComponentLabel) == "builder",
                        .ready = PodReady(pod)};
    if (agent.node.empty() || JsonAt(pod, {"metadata", "deletionTimestamp"}) != nullptr) continue;
    auto [slot, inserted] = by_node.emplace(agent.node, agent);
    // Two pods on a node during a rollout: the ready one; of two ready ones, the builder's.
    if (!inserted && (agent.ready > slot->second.ready ||
                      (agent.ready == slot->second.ready && agent.builder && !slot->second.builder))) {
      slot->second = agent;
    }
  }
  std::vector<AgentEndpoint> agents;
  for (auto& [node, agent] : by_node) agents.push_back(std::move(agent));
  return agents;
}

}  // namespace kim::kube
