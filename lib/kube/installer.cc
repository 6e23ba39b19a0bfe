// The Kubernetes Installer: install / uninstall / info / login / logout of kim's builder. The
// nodes' plan is install_nodes, the PKI installer_pki, discovery builder_discovery, info
// installer_info, logins cluster_credentials, removal uninstall.
#include "lib/kube/installer.h"

#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kim/version.h"
#include "lib/kube/builder_wait.h"
#include "lib/kube/cluster_credentials.h"
#include "lib/kube/deletion.h"
#include "lib/kube/install_nodes.h"
#include "lib/kube/installer_info.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/object_helpers.h"
#include "lib/kube/installer_pki.h"
#include "lib/kube/uninstall.h"
#include "lib/kube/user_access.h"

namespace kim::kube {
namespace {

// The agent-only DaemonSets an install wants: one per containerd flavour of the agent nodes.
std::map<std::string, RuntimePaths> AgentLayouts(const NodePlan& plan) {
  std::map<std::string, RuntimePaths> layouts;
  for (const ServedNode& node : plan.agents) layouts.emplace(node.runtime.flavour, node.runtime);
  return layouts;
}

// "k3s containerd://1.7.21-k3s1", or "from flags" for a layout the flags gave.
std::string RuntimeNote(const ServedNode& node) {
  if (node.runtime.flavour == "custom") return "from flags";
  return absl::StrCat(node.runtime.flavour, " ", node.runtime_version);
}

class KubeInstaller : public Installer {
 public:
  KubeInstaller(std::shared_ptr<Client> client, std::string ns)
      : client_(std::move(client)), ns_(std::move(ns)) {}

  absl::Status Install(const InstallOptions& options) override {
    absl::Status status = DoInstall(options);
    if (!status.ok() && options.no_fail) {
      Say(options.progress, absl::StrCat("WARNING: ", status.message()));
      return absl::OkStatus();
    }
    return status;
  }

  absl::Status Uninstall(const UninstallOptions& options) override {
    return UninstallBuilder(*client_, ns_, options);
  }
  absl::StatusOr<BuilderInfo> Info() override { return ReadBuilderInfo(*client_, ns_); }
  absl::Status Login(const LoginOptions& options) override {
    if (absl::Status s = EnsureNamespace(); !s.ok()) return s;
    return StoreClusterLogin(*client_, ns_, options);
  }
  absl::Status Logout(const std::string& server) override {
    return EraseClusterLogin(*client_, ns_, server);
  }

 private:
  absl::Status DoInstall(const InstallOptions& options);
  // Chooses the builder nodes and gives every other containerd node its agent's layout.
  absl::StatusOr<NodePlan> PlanInstall(const InstallOptions& options);
  // Labels the builder nodes with the builder role and every served node with its runtime;
  // nodes labelled by an earlier install lose what they no longer are.
  absl::Status LabelNodes(const NodePlan& plan, const Progress& progress);
  // --force: deletes the builder's objects and the agent DaemonSets, and waits until gone.
  absl::Status DeleteForForce(const InstallOptions& options, absl::Time deadline);
  absl::Status EnsureNamespace();
  // Creates `desired`, or updates the stored object when its content hash differs. Returns
  // whether anything was written.
  absl::StatusOr<bool> Ensure(const Resource& resource, Json desired);
  // Writes the agent DaemonSet of each layout in `plan` and deletes those of layouts no node
  // has any more. Returns whether anything was written.
  absl::StatusOr<bool> EnsureAgentDaemonSets(const BuilderSpec& spec, const NodePlan& plan,
                                             const Progress& progress);
  absl::Status WaitReady(const NodePlan& plan, const InstallOptions& options, absl::Time deadline);

  std::shared_ptr<Client> client_;
  std::string ns_;
};

absl::StatusOr<NodePlan> KubeInstaller::PlanInstall(const InstallOptions& options) {
  auto matching = client_->List(kNodes, "", {.label_selector = options.selector});
  if (!matching.ok()) return matching.status();
  auto builders = ChooseBuilderNodes(*matching, options.selector);
  if (!builders.ok()) return builders.status();
  auto all = options.selector.empty() ? matching : client_->List(kNodes, "");
  if (!all.ok()) return all.status();
  return PlanNodes(*all, *builders,
                   {.socket = options.containerd_socket, .volume = options.containerd_volume});
}

absl::Status KubeInstaller::LabelNodes(const NodePlan& plan, const Progress& progress) {
  std::set<std::string> builders, served;
  for (const ServedNode* node : plan.All()) served.insert(node->name);
  for (const ServedNode& node : plan.builders) builders.insert(node.name);
  for (const char* label : {kBuilderNodeLabel, kRuntimeNodeLabel}) {
    auto labelled = client_->List(kNodes, "", {.label_selector = label});
    if (!labelled.ok()) return labelled.status();
    for (const Json& item : labelled->at("items").as_array()) {
      const std::string name = JsonString(item, {"metadata", "name"});
      const bool keep = label == kBuilderNodeLabel ? builders.count(name) : served.count(name);
      if (keep) continue;
      absl::Status s = label == kBuilderNodeLabel ? RemoveBuilderRole(*client_, name, progress)
                                                  : RemoveRuntimeLabel(*client_, name, progress);
      if (!s.ok()) return s;
    }
  }
  for (const ServedNode* node : plan.All()) {
    std::map<std::string, std::string> labels;
    if (builders.count(node->name) && !node->builder_label) {
      Say(progress, absl::StrCat("Applying node-role `builder` to node `", node->name, "`"));
      labels[kBuilderNodeLabel] = "true";
    }
    if (node->runtime_label != node->runtime.flavour) {
      labels[kRuntimeNodeLabel] = node->runtime.flavour;
    }
    if (labels.empty()) continue;
    if (absl::Status s = PatchNodeLabels(*client_, node->name, labels); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status KubeInstaller::DeleteForForce(const InstallOptions& options, absl::Time deadline) {
  Say(options.progress, "Deleting the existing builder and agents (--force)");
  std::vector<std::pair<const Resource*, std::string>> objects = {
      {&kDaemonSets, kBuilderName}, {&kEndpoints, kBuilderName}, {&kServices, kBuilderName},
      {&kSecrets, kServerSecret},   {&kSecrets, kClientSecret},  {&kSecrets, kCaSecret},
      {&kServiceAccounts, kBuilderName}};
  for (const char* flavour : kRuntimeFlavours) {
    objects.push_back({&kDaemonSets, AgentDaemonSetName(flavour)});
  }
  for (const auto& [resource, name] : objects) {
    if (absl::Status s = IgnoreNotFound(client_->Delete(*resource, ns_, name)); !s.ok()) return s;
  }
  for (const auto& [resource, name] : objects) {
    absl::Status s =
        WaitDeleted(*client_, *resource, ns_, name, deadline, options.timeout, options.progress);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status KubeInstaller::EnsureNamespace() {
  auto existing = client_->Get(kNamespaces, "", ns_);
  if (existing.ok()) {
    if (JsonAt(*existing, {"metadata", "deletionTimestamp"}) != nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "namespace \"", ns_, "\" is being deleted; wait until it is gone and install again"));
    }
    return absl::OkStatus();  // not ours to relabel: uninstall will leave it in place
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  auto created = client_->Create(kNamespaces, "", NamespaceObject(ns_));
  if (absl::IsAlreadyExists(created.status())) return absl::OkStatus();
  return created.status();
}

absl::StatusOr<bool> KubeInstaller::Ensure(const Resource& resource, Json desired) {
  const std::string hash = HashJson(desired);
  Json& metadata = desired["metadata"];
  if (!metadata.has_field("annotations")) metadata["annotations"] = Json::object();
  metadata["annotations"][kSpecHashAnnotation] = Json::string(hash);
  const std::string name = JsonString(desired, {"metadata", "name"});
  bool wrote = false;
  auto stored = client_->CreateOrUpdate(
      resource, ns_, name, [&](std::optional<Json>& object) -> absl::StatusOr<bool> {
        if (!object) {
          object = desired;
          wrote = true;
          return true;
        }
        const Json* annotations = JsonAt(*object, {"metadata", "annotations"});
        if (annotations != nullptr && annotations->is_object() &&
            annotations->has_field(kSpecHashAnnotation) &&
            annotations->at(kSpecHashAnnotation).is_string() &&
            annotations->at(kSpecHashAnnotation).as_string() == hash) {
          return false;
        }
        // Replace our content, keep what the server and others own (uid, resourceVersion,
        // other labels and annotations).
        for (const auto& [key, value] : desired.as_object()) {
          if (key != "metadata") (*object)[key] = value;
        }
        Json& meta = (*object)["metadata"];
        for (const char* field : {"labels", "annotations"}) {
          if (!meta.has_field(field) || !meta.at(field).is_object()) meta[field] = Json::object();
          for (const auto& [key, value] : desired.at("metadata").at(field).as_object()) {
            meta[field][key] = value;
          }
        }
        wrote = true;
        return true;
      });
  if (!stored.ok()) return stored.status();
  return wrote;
}

absl::StatusOr<bool> KubeInstaller::EnsureAgentDaemonSets(const BuilderSpec& spec,
                                                          const NodePlan& plan,
                                                          const Progress& progress) {
  const std::map<std::string, RuntimePaths> layouts = AgentLayouts(plan);
  bool wrote = false;
  for (const auto& [flavour, runtime] : layouts) {
    std::vector<std::string> nodes;
    for (const ServedNode& node : plan.agents) {
      if (node.runtime.flavour == flavour) nodes.push_back(node.name);
    }
    Say(progress, absl::StrCat("Agent DaemonSet `", AgentDaemonSetName(flavour), "` for node",
                               nodes.size() == 1 ? " `" : "s `", absl::StrJoin(nodes, "`, `"),
                               "`: containerd socket ", runtime.socket));
    auto written = Ensure(kDaemonSets, AgentDaemonSetObject(spec, runtime));
    if (!written.ok()) return written.status();
    wrote = wrote || *written;
  }
  for (const char* flavour : kRuntimeFlavours) {  // layouts no node has any more
    if (layouts.count(flavour)) continue;
    absl::Status deleted = client_->Delete(kDaemonSets, ns_, AgentDaemonSetName(flavour));
    if (absl::IsNotFound(deleted)) continue;
    if (!deleted.ok()) return deleted;
    Say(progress, absl::StrCat("Deleted DaemonSet `", AgentDaemonSetName(flavour),
                               "`: no agent node has that containerd layout any more"));
    wrote = true;
  }
  return wrote;
}

absl::Status KubeInstaller::WaitReady(const NodePlan& plan, const InstallOptions& options,
                                      absl::Time deadline) {
  BuilderWait wait{.namespace_name = ns_, .deadline = deadline, .timeout = options.timeout,
                   .progress = options.progress};
  auto builder = client_->Get(kDaemonSets, ns_, kBuilderName);
  if (!builder.ok()) return builder.status();
  for (const ServedNode& node : plan.builders) wait.nodes.push_back({node.name, "builder", *builder});
  std::map<std::string, Json> agents;  // by flavour
  for (const ServedNode& node : plan.agents) {
    if (!node.ready) {  // its pod comes when the kubelet is back: no reason to fail the install
      Say(options.progress, absl::StrCat("Not waiting for the agent on node `", node.name,
                                         "`: the node is not Ready"));
      continue;
    }
    if (!agents.count(node.runtime.flavour)) {
      auto ds = client_->Get(kDaemonSets, ns_, AgentDaemonSetName(node.runtime.flavour));
      if (!ds.ok()) return ds.status();
      agents[node.runtime.flavour] = *ds;
    }
    wait.nodes.push_back({node.name, "agent", agents[node.runtime.flavour]});
  }
  return WaitForKimPods(*client_, wait);
}

// The lines that end a successful install: where the builder answers, and the agents.
void SayReady(const NodePlan& plan, const BuilderSpec& spec, const InstallOptions& options) {
  if (plan.builders.size() == 1) {
    const std::string host =
        options.endpoint_addr.empty() ? plan.builders[0].address : options.endpoint_addr;
    Say(options.progress, absl::StrCat("Builder ready: buildkitd at ", host, ":",
                                       spec.buildkit_port, ", kim-agent at ", host, ":",
                                       spec.agent_port));
  } else {
    std::vector<std::string> hosts;
    for (const ServedNode& node : plan.builders) {
      hosts.push_back(absl::StrCat(node.name, " (", node.address, ")"));
    }
    Say(options.progress, absl::StrCat("Builder ready on ", plan.builders.size(), " nodes: ",
                                       absl::StrJoin(hosts, ", "), "; buildkitd on port ",
                                       spec.buildkit_port, ", kim-agent on port ", spec.agent_port));
  }
  std::vector<std::string> agents;
  for (const ServedNode& node : plan.agents) {
    if (node.ready) agents.push_back(node.name);
  }
  if (!agents.empty()) {
    Say(options.progress, absl::StrCat("Agents ready on ", absl::StrJoin(agents, ", "),
                                       " (kim-agent on port ", spec.agent_port, ")"));
  }
}

// The objects' common spec from the options and the plan.
BuilderSpec SpecFrom(const std::string& ns, const InstallOptions& options, const NodePlan& plan) {
  BuilderSpec spec;
  spec.namespace_name = ns;
  spec.agent_image = options.agent_image.empty()
                         ? absl::StrCat(kDefaultAgentRepository, ":", std::string(kim::Version()))
                         : options.agent_image;
  if (spec.agent_image.find(':', spec.agent_image.rfind('/') + 1) == std::string::npos &&
      spec.agent_image.find('@') == std::string::npos) {
    absl::StrAppend(&spec.agent_image, ":", std::string(kim::Version()));  // missing tag: this version
  }
  spec.buildkit_image = options.buildkit_image.empty() ? "docker.io/moby/buildkit:v0.17.3"
                                                       : options.buildkit_image;
  spec.agent_port = options.agent_port;
  spec.buildkit_port = options.buildkit_port;
  spec.buildkit_socket = options.buildkit_socket;
  spec.endpoint_addr = options.endpoint_addr;
  for (const ServedNode& node : plan.builders) spec.builders.push_back({node.name, node.address});
  spec.containerd_socket = plan.builders.front().runtime.socket;
  spec.containerd_volume = plan.builders.front().runtime.volume;
  return spec;
}

// The names the server certificate carries: every served node's.
ServerNames NamesOf(const NodePlan& plan, const std::string& endpoint_addr) {
  ServerNames names{.endpoint_addr = endpoint_addr};
  for (const ServedNode* node : plan.All()) {
    names.hostnames.insert(names.hostnames.end(), node->hostnames.begin(), node->hostnames.end());
    names.ips.insert(names.ips.end(), node->ips.begin(), node->ips.end());
  }
  return names;
}

absl::Status KubeInstaller::DoInstall(const InstallOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  auto plan = PlanInstall(options);
  if (!plan.ok()) return plan.status();
  for (const std::string& warning : plan->warnings) Say(options.progress, warning);
  BuilderSpec spec = SpecFrom(ns_, options, *plan);
  if (absl::Status s = LabelNodes(*plan, options.progress); !s.ok()) return s;
  for (const ServedNode& node : plan->builders) {
    Say(options.progress, absl::StrCat("Builder node `", node.name, "` (", node.address, "): ",
                                       RuntimeNote(node), ", containerd socket ",
                                       node.runtime.socket));
  }
  if (options.force) {
    if (absl::Status s = DeleteForForce(options, deadline); !s.ok()) return s;
  }

  Say(options.progress, absl::StrCat("Asserting namespace `", ns_, "`"));
  if (absl::Status s = EnsureNamespace(); !s.ok()) return s;
  if (auto s = Ensure(kServiceAccounts, ServiceAccountObject(spec)); !s.ok()) return s.status();
  Say(options.progress, absl::StrCat("Asserting RBAC for users: Role and ClusterRole `", kUserRoleName,
                                     "` (bind users to them: docs/security.md)"));
  if (auto s = Ensure(kRoles, UserRoleObject(ns_)); !s.ok()) return s.status();
  if (auto s = Ensure(kClusterRoles, UserClusterRoleObject()); !s.ok()) return s.status();
  Say(options.progress, "Asserting TLS secrets");
  auto checksum =
      EnsureBuilderPki(*client_, ns_, NamesOf(*plan, options.endpoint_addr), options.progress);
  if (!checksum.ok()) return checksum.status();
  spec.tls_checksum = *checksum;
  Say(options.progress, "Asserting service/endpoints");
  if (auto s = Ensure(kServices, ServiceObject(spec)); !s.ok()) return s.status();
  if (auto s = Ensure(kEndpoints, EndpointsObject(spec)); !s.ok()) return s.status();
  auto wrote = Ensure(kDaemonSets, DaemonSetObject(spec));
  if (!wrote.ok()) return wrote.status();
  auto agents_wrote = EnsureAgentDaemonSets(spec, *plan, options.progress);
  if (!agents_wrote.ok()) return agents_wrote.status();
  Say(options.progress, *wrote || *agents_wrote ? "Installing builder daemon"
                                                : "Builder daemon is up to date");
  if (options.no_wait) return absl::OkStatus();
  if (absl::Status s = WaitReady(*plan, options, deadline); !s.ok()) return s;
  SayReady(*plan, spec, options);
  return absl::OkStatus();
}

}  // namespace

std::unique_ptr<Installer> NewKubeInstaller(std::shared_ptr<Client> client,
                                            std::string namespace_name) {
  return std::make_unique<KubeInstaller>(std::move(client), std::move(namespace_name));
}

}  // namespace kim::kube
