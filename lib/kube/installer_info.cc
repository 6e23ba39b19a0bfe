// `kim system info`: the builder's DaemonSet and Endpoints, the server certificate, and per node
// its role, runtime, agent version and whether its kim pod is ready.
#include "lib/kube/installer_info.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "lib/kube/builder_wait.h"
#include "lib/kube/installer.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/object_helpers.h"
#include "lib/kube/pki.h"
#include "lib/kube/user_access.h"

namespace kim::kube {
namespace {

// The image of `container` in a pod spec (a DaemonSet's template spec, or a pod's spec).
std::string ImageOf(const Json& pod_spec, const std::string& container) {
  const Json* containers = JsonAt(pod_spec, {"containers"});
  if (containers == nullptr || !containers->is_array()) return "";
  for (const Json& c : containers->as_array()) {
    if (JsonString(c, {"name"}) == container) return JsonString(c, {"image"});
  }
  return "";
}

const Json& TemplateSpec(const Json& daemonset) {
  static const Json kEmpty = Json::object();
  const Json* spec = JsonAt(daemonset, {"spec", "template", "spec"});
  return spec != nullptr ? *spec : kEmpty;
}

// The agent image of the kim pod on `node` of the given component, if there is one.
std::string PodAgentImage(const Json& pods, const std::string& node, const std::string& component) {
  for (const Json& pod : pods.at("items").as_array()) {
    if (JsonString(pod, {"spec", "nodeName"}) != node || Label(pod, kComponentLabel) != component ||
        JsonAt(pod, {"metadata", "deletionTimestamp"}) != nullptr) {
      continue;
    }
    const Json* spec = JsonAt(pod, {"spec"});
    if (spec != nullptr) return ImageOf(*spec, "agent");
  }
  return "";
}

// Reads the DaemonSets that serve the nodes: "builder" (already read) and agent-<flavour>.
class DaemonSets {
 public:
  DaemonSets(Client& client, const std::string& ns, Json builder)
      : client_(client), ns_(ns) {
    by_name_[kBuilderName] = std::move(builder);
  }
  // The DaemonSet `name`, or why it cannot be read.
  absl::StatusOr<Json> Get(const std::string& name) {
    auto found = by_name_.find(name);
    if (found != by_name_.end()) return found->second;
    auto ds = client_.Get(kDaemonSets, ns_, name);
    if (ds.ok()) by_name_[name] = *ds;
    return ds;
  }

 private:
  Client& client_;
  const std::string& ns_;
  std::map<std::string, Json> by_name_;
};

// One served node's status (`node` is a Node object).
NodeStatus StatusOf(const Json& node, const Json& pods, DaemonSets& daemonsets) {
  NodeStatus status;
  status.name = JsonString(node, {"metadata", "name"});
  const bool builder = Label(node, kBuilderNodeLabel) == "true";
  status.role = builder ? "builder" : "agent";
  status.runtime = JsonString(node, {"status", "nodeInfo", "containerRuntimeVersion"});
  status.kubelet_version = JsonString(node, {"status", "nodeInfo", "kubeletVersion"});
  const std::string ds_name =
      builder ? std::string(kBuilderName) : AgentDaemonSetName(Label(node, kRuntimeNodeLabel));
  auto ds = daemonsets.Get(ds_name);
  std::string image = PodAgentImage(pods, status.name, status.role);
  if (!ds.ok()) {
    status.message = absl::StrCat("cannot read daemonset \"", ds_name, "\": ", ds.status().message());
  } else {
    if (image.empty()) image = ImageOf(TemplateSpec(*ds), "agent");
    NodePodState state = JudgeNodePods(pods, *ds, status.name);
    status.ready = state.ready;
    status.message = state.waiting;
  }
  status.agent_version = image.empty() ? "" : ImageTag(image);
  return status;
}

}  // namespace

std::string ImageTag(const std::string& image) {
  const size_t colon = image.rfind(':');
  if (colon == std::string::npos || colon < image.rfind('/')) return "latest";
  return image.substr(colon + 1);
}

absl::StatusOr<BuilderInfo> ReadBuilderInfo(Client& client, const std::string& ns) {
  auto ds = client.Get(kDaemonSets, ns, kBuilderName);
  if (absl::IsNotFound(ds.status())) {
    return absl::NotFoundError(absl::StrCat("kim is not installed in namespace \"", ns,
                                            "\": run \"kim system install\""));
  }
  if (!ds.ok()) return WithUserRoleHint(ds.status(), ns);
  BuilderInfo info;
  info.namespace_name = ns;
  info.buildkit_image = ImageOf(TemplateSpec(*ds), "buildkitd");
  info.agent_image = ImageOf(TemplateSpec(*ds), "agent");
  info.buildkit_version = ImageTag(info.buildkit_image);
  info.agent_version = ImageTag(info.agent_image);
  auto nodes = client.List(kNodes, "");
  if (!nodes.ok()) return WithUserRoleHint(nodes.status(), ns, UserScope::kCluster);
  // Readiness as the pods tell it (the DaemonSets' status is only as fresh as their controller).
  auto pods = client.List(kPods, ns, {.label_selector = kKimPodSelector});
  if (!pods.ok()) return WithUserRoleHint(pods.status(), ns);
  DaemonSets daemonsets(client, ns, *ds);
  for (const Json& node : nodes->at("items").as_array()) {
    const bool builder = Label(node, kBuilderNodeLabel) == "true";
    if (builder) info.nodes.push_back(JsonString(node, {"metadata", "name"}));
    if (builder || !Label(node, kRuntimeNodeLabel).empty()) {
      info.node_status.push_back(StatusOf(node, *pods, daemonsets));
    }
  }
  std::sort(info.nodes.begin(), info.nodes.end());
  std::sort(info.node_status.begin(), info.node_status.end(),
            [](const NodeStatus& a, const NodeStatus& b) { return a.name < b.name; });
  info.desired = static_cast<int>(info.nodes.size());
  info.ready = ReadyBuilderNodes(*pods, *ds, info.nodes);
  auto endpoint = DiscoverBuilder(client, ns);
  if (endpoint.ok()) {
    info.buildkit_endpoint = absl::StrCat(endpoint->host, ":", endpoint->buildkit_port);
    info.agent_endpoint = absl::StrCat(endpoint->host, ":", endpoint->agent_port);
  }
  auto server = client.Get(kSecrets, ns, kServerSecret);
  if (server.ok()) {
    auto cert = InspectCertificate(DecodedField(*server, "tls.crt"));
    if (cert.ok()) info.certificate_expiry = cert->not_after;
  }
  return info;
}

}  // namespace kim::kube
