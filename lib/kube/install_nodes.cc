// The nodes kim serves: builder nodes by --selector, agent-only nodes by containerd layout.
#include "lib/kube/install_nodes.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/object_helpers.h"

namespace kim::kube {
namespace {

void AddUnique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

bool ReadyCondition(const Json& node) {
  const Json* conditions = JsonAt(node, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return false;
  for (const Json& condition : conditions->as_array()) {
    if (JsonString(condition, {"type"}) == "Ready") {
      return JsonString(condition, {"status"}) == "True";
    }
  }
  return false;
}

// "node-a (containerd://2.1.5-k3s1: /run/k3s/containerd/containerd.sock)" for errors.
std::string DescribeLayout(const ServedNode& node) {
  return absl::StrCat(node.name, " (",
                      node.runtime_version.empty() ? "no runtime reported" : node.runtime_version,
                      ": ", node.runtime.socket, ", ", node.runtime.volume, ")");
}

}  // namespace

ServedNode ReadNode(const Json& node) {
  ServedNode out;
  out.name = JsonString(node, {"metadata", "name"});
  out.runtime_version = JsonString(node, {"status", "nodeInfo", "containerRuntimeVersion"});
  out.ready = ReadyCondition(node);
  out.builder_label = Label(node, kBuilderNodeLabel) == "true";
  out.runtime_label = Label(node, kRuntimeNodeLabel);
  out.hostnames.push_back(out.name);
  const Json* addresses = JsonAt(node, {"status", "addresses"});
  std::string external;
  if (addresses != nullptr && addresses->is_array()) {
    for (const Json& address : addresses->as_array()) {
      const std::string type = JsonString(address, {"type"});
      const std::string value = JsonString(address, {"address"});
      if (type == "InternalIP" || type == "ExternalIP") {
        out.ips.push_back(value);
        if (type == "InternalIP" && out.address.empty()) out.address = value;
        if (type == "ExternalIP" && external.empty()) external = value;
      } else if (type == "Hostname" || type == "InternalDNS" || type == "ExternalDNS") {
        AddUnique(out.hostnames, value);
      }
    }
  }
  if (out.address.empty()) out.address = external;
  return out;
}

absl::StatusOr<RuntimePaths> NodeRuntime(const ServedNode& node, const RuntimeFlags& flags,
                                         bool builder) {
  RuntimeFlags used = flags;
  if (!builder) used.volume.clear();  // an agent-only pod mounts no containerd root
  auto detected = DetectRuntime(node.name, node.runtime_version);
  RuntimePaths paths = detected.ok() ? *detected : RuntimePaths{};
  if (!used.socket.empty()) paths.socket = used.socket;
  if (!used.volume.empty()) paths.volume = used.volume;
  if (!used.socket.empty() || !used.volume.empty()) paths.flavour = "custom";
  const bool complete = !paths.socket.empty() && (!builder || !paths.volume.empty());
  if (!detected.ok() && !complete) return detected.status();
  return paths;
}

absl::StatusOr<std::set<std::string>> ChooseBuilderNodes(const Json& matching,
                                                         const std::string& selector) {
  const Json* items = JsonAt(matching, {"items"});
  std::vector<std::string> names;
  if (items != nullptr && items->is_array()) {
    for (const Json& item : items->as_array()) names.push_back(JsonString(item, {"metadata", "name"}));
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    if (selector.empty()) return absl::FailedPreconditionError("the cluster has no nodes");
    return absl::FailedPreconditionError(
        absl::StrCat("failed to select any nodes: none matches --selector \"", selector, "\""));
  }
  if (selector.empty() && names.size() > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        names.size(), " nodes match (", absl::StrJoin(names, ", "),
        "): choose builder nodes with --selector, e.g. --selector kubernetes.io/hostname=",
        names[0], " (the other nodes get an agent)"));
  }
  return std::set<std::string>(names.begin(), names.end());
}

std::vector<const ServedNode*> NodePlan::All() const {
  std::vector<const ServedNode*> all;
  for (const ServedNode& node : builders) all.push_back(&node);
  for (const ServedNode& node : agents) all.push_back(&node);
  return all;
}

absl::StatusOr<NodePlan> PlanNodes(const Json& all_nodes, const std::set<std::string>& builders,
                                   const RuntimeFlags& flags) {
  NodePlan plan;
  const Json* items = JsonAt(all_nodes, {"items"});
  std::vector<ServedNode> nodes;
  if (items != nullptr && items->is_array()) {
    for (const Json& item : items->as_array()) nodes.push_back(ReadNode(item));
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const ServedNode& a, const ServedNode& b) { return a.name < b.name; });
  for (ServedNode& node : nodes) {
    const bool builder = builders.count(node.name) > 0;
    auto runtime = NodeRuntime(node, flags, builder);
    if (!runtime.ok() && builder) return runtime.status();
    if (!runtime.ok()) {
      plan.warnings.push_back(absl::StrCat("WARNING: node `", node.name, "` is left out: ",
                                           runtime.status().message()));
      continue;
    }
    if (builder && node.address.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("node \"", node.name, "\" reports no InternalIP or ExternalIP address"));
    }
    node.runtime = *runtime;
    (builder ? plan.builders : plan.agents).push_back(node);
  }
  for (const std::string& name : builders) {  // a node that matched but is gone from the list
    if (std::none_of(plan.builders.begin(), plan.builders.end(),
                     [&](const ServedNode& node) { return node.name == name; })) {
      return absl::FailedPreconditionError(absl::StrCat("builder node \"", name, "\" is gone"));
    }
  }
  if (plan.builders.empty()) return absl::FailedPreconditionError("no builder node chosen");
  const RuntimePaths& first = plan.builders.front().runtime;
  for (const ServedNode& node : plan.builders) {
    if (node.runtime.socket == first.socket && node.runtime.volume == first.volume) continue;
    std::vector<std::string> described;
    for (const ServedNode& each : plan.builders) described.push_back(DescribeLayout(each));
    return absl::FailedPreconditionError(absl::StrCat(
        "the builder nodes do not share one containerd layout: ", absl::StrJoin(described, "; "),
        ": choose builder nodes of one kind with --selector, or give --containerd-socket and "
        "--containerd-volume if they are the same on every builder node"));
  }
  return plan;
}

}  // namespace kim::kube
