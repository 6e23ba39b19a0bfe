// The Kubernetes Installer: install / uninstall / info / login / logout of kim's builder. The
// PKI is installer_pki, discovery builder_discovery, logins cluster_credentials, removal uninstall.
#include "lib/kube/installer.h"

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kim/version.h"
#include "lib/kube/builder_wait.h"
#include "lib/kube/cluster_credentials.h"
#include "lib/kube/deletion.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/object_helpers.h"
#include "lib/kube/installer_pki.h"
#include "lib/kube/pki.h"
#include "lib/kube/uninstall.h"
#include "lib/kube/user_access.h"

namespace kim::kube {
namespace {

// The node chosen for the builder.
struct BuilderNode {
  std::string name;
  std::string address;               // InternalIP, else ExternalIP
  std::vector<std::string> ips;      // every InternalIP/ExternalIP
  std::vector<std::string> hostnames;
  std::string runtime_version;
};

BuilderNode ReadNode(const Json& node) {
  BuilderNode out;
  out.name = JsonString(node, {"metadata", "name"});
  out.runtime_version = JsonString(node, {"status", "nodeInfo", "containerRuntimeVersion"});
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
        if (std::find(out.hostnames.begin(), out.hostnames.end(), value) == out.hostnames.end()) {
          out.hostnames.push_back(value);
        }
      }
    }
  }
  if (out.address.empty()) out.address = external;
  return out;
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
  absl::StatusOr<BuilderInfo> Info() override;
  absl::Status Login(const LoginOptions& options) override {
    if (absl::Status s = EnsureNamespace(); !s.ok()) return s;
    return StoreClusterLogin(*client_, ns_, options);
  }
  absl::Status Logout(const std::string& server) override {
    return EraseClusterLogin(*client_, ns_, server);
  }

 private:
  absl::Status DoInstall(const InstallOptions& options);
  absl::StatusOr<BuilderNode> SelectNode(const InstallOptions& options);
  absl::Status LabelNodes(const BuilderNode& node, const Progress& progress);
  absl::Status EnsureNamespace();
  // Creates `desired`, or updates the stored object when its content hash differs. Returns
  // whether anything was written.
  absl::StatusOr<bool> Ensure(const Resource& resource, Json desired);
  absl::Status WaitReady(const BuilderNode& node, const InstallOptions& options,
                         absl::Time deadline);

  std::shared_ptr<Client> client_;
  std::string ns_;
};

absl::StatusOr<BuilderNode> KubeInstaller::SelectNode(const InstallOptions& options) {
  auto nodes = client_->List(kNodes, "", {.label_selector = options.selector});
  if (!nodes.ok()) return nodes.status();
  const Json* items = JsonAt(*nodes, {"items"});
  if (items == nullptr || !items->is_array() || items->size() == 0) {
    if (options.selector.empty()) return absl::FailedPreconditionError("the cluster has no nodes");
    return absl::FailedPreconditionError(
        absl::StrCat("failed to select any nodes: none matches --selector \"", options.selector, "\""));
  }
  if (items->size() > 1) {
    std::vector<std::string> names;
    for (const Json& item : items->as_array()) names.push_back(JsonString(item, {"metadata", "name"}));
    return absl::FailedPreconditionError(absl::StrCat(
        items->size(), " nodes match (", absl::StrJoin(names, ", "),
        "): kim runs one builder node; choose it with --selector kubernetes.io/hostname=", names[0]));
  }
  BuilderNode node = ReadNode(items->at(0));
  if (node.address.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("node \"", node.name, "\" reports no InternalIP or ExternalIP address"));
  }
  return node;
}

absl::Status KubeInstaller::LabelNodes(const BuilderNode& node, const Progress& progress) {
  // Nodes labelled by an earlier install with another selector lose the role.
  auto labelled = client_->List(kNodes, "", {.label_selector = kBuilderNodeLabel});
  if (!labelled.ok()) return labelled.status();
  bool has_label = false;
  for (const Json& item : labelled->at("items").as_array()) {
    const std::string name = JsonString(item, {"metadata", "name"});
    if (name == node.name) {
      has_label = Label(item, kBuilderNodeLabel) == "true";
      continue;
    }
    if (absl::Status s = RemoveBuilderRole(*client_, name, progress); !s.ok()) return s;
  }
  if (has_label) return absl::OkStatus();
  Say(progress, absl::StrCat("Applying node-role `builder` to node `", node.name, "`"));
  Json patch = Json::parse(absl::StrCat(R"({"metadata":{"labels":{")", kBuilderNodeLabel, R"(":"true"}}})"));
  return client_->MergePatch(kNodes, "", node.name, patch).status();
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

absl::Status KubeInstaller::WaitReady(const BuilderNode& node, const InstallOptions& options,
                                      absl::Time deadline) {
  auto daemonset = client_->Get(kDaemonSets, ns_, kBuilderName);
  if (!daemonset.ok()) return daemonset.status();
  return WaitForBuilderPods(*client_, {.namespace_name = ns_,
                                       .daemonset = *daemonset,
                                       .nodes = {node.name},
                                       .deadline = deadline,
                                       .timeout = options.timeout,
                                       .progress = options.progress});
}

absl::Status KubeInstaller::DoInstall(const InstallOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  auto node = SelectNode(options);
  if (!node.ok()) return node.status();
  BuilderSpec spec;
  spec.namespace_name = ns_;
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
  spec.node_name = node->name;
  spec.node_address = node->address;
  spec.containerd_socket = options.containerd_socket;
  spec.containerd_volume = options.containerd_volume;
  std::string runtime_note = "from flags";
  if (spec.containerd_socket.empty() || spec.containerd_volume.empty()) {
    auto runtime = DetectRuntime(node->name, node->runtime_version);
    if (!runtime.ok()) return runtime.status();
    if (spec.containerd_socket.empty()) spec.containerd_socket = runtime->socket;
    if (spec.containerd_volume.empty()) spec.containerd_volume = runtime->volume;
    runtime_note = absl::StrCat(runtime->flavour, " ", node->runtime_version);
  }

  if (absl::Status s = LabelNodes(*node, options.progress); !s.ok()) return s;
  Say(options.progress, absl::StrCat("Builder node `", node->name, "` (", node->address, "): ",
                                     runtime_note, ", containerd socket ", spec.containerd_socket));

  if (options.force) {
    Say(options.progress, "Deleting the existing builder (--force)");
    const std::vector<std::pair<const Resource*, std::string>> objects = {
        {&kDaemonSets, kBuilderName}, {&kEndpoints, kBuilderName}, {&kServices, kBuilderName},
        {&kSecrets, kServerSecret},   {&kSecrets, kClientSecret},  {&kSecrets, kCaSecret},
        {&kServiceAccounts, kBuilderName}};
    for (const auto& [resource, name] : objects) {
      absl::Status s = IgnoreNotFound(client_->Delete(*resource, ns_, name));
      if (!s.ok()) return s;
    }
    for (const auto& [resource, name] : objects) {
      absl::Status s =
          WaitDeleted(*client_, *resource, ns_, name, deadline, options.timeout, options.progress);
      if (!s.ok()) return s;
    }
  }

  Say(options.progress, absl::StrCat("Asserting namespace `", ns_, "`"));
  if (absl::Status s = EnsureNamespace(); !s.ok()) return s;
  if (auto s = Ensure(kServiceAccounts, ServiceAccountObject(spec)); !s.ok()) return s.status();
  Say(options.progress, absl::StrCat("Asserting RBAC for users: Role and ClusterRole `", kUserRoleName,
                                     "` (bind users to them: docs/security.md)"));
  if (auto s = Ensure(kRoles, UserRoleObject(ns_)); !s.ok()) return s.status();
  if (auto s = Ensure(kClusterRoles, UserClusterRoleObject()); !s.ok()) return s.status();
  Say(options.progress, "Asserting TLS secrets");
  auto checksum = EnsureBuilderPki(
      *client_, ns_,
      {.hostnames = node->hostnames, .ips = node->ips, .endpoint_addr = options.endpoint_addr},
      options.progress);
  if (!checksum.ok()) return checksum.status();
  spec.tls_checksum = *checksum;
  Say(options.progress, "Asserting service/endpoints");
  if (auto s = Ensure(kServices, ServiceObject(spec)); !s.ok()) return s.status();
  if (auto s = Ensure(kEndpoints, EndpointsObject(spec)); !s.ok()) return s.status();
  auto wrote = Ensure(kDaemonSets, DaemonSetObject(spec));
  if (!wrote.ok()) return wrote.status();
  Say(options.progress, *wrote ? "Installing builder daemon" : "Builder daemon is up to date");
  if (options.no_wait) return absl::OkStatus();
  if (absl::Status s = WaitReady(*node, options, deadline); !s.ok()) return s;
  const std::string host = options.endpoint_addr.empty() ? node->address : options.endpoint_addr;
  Say(options.progress, absl::StrCat("Builder ready: buildkitd at ", host, ":", spec.buildkit_port,
                                     ", kim-agent at ", host, ":", spec.agent_port));
  return absl::OkStatus();
}

std::string ImageOf(const Json& ds, const std::string& container) {
  const Json* containers = JsonAt(ds, {"spec", "template", "spec", "containers"});
  if (containers == nullptr || !containers->is_array()) return "";
  for (const Json& c : containers->as_array()) {
    if (JsonString(c, {"name"}) == container) return JsonString(c, {"image"});
  }
  return "";
}

std::string TagOf(const std::string& image) {
  const size_t colon = image.rfind(':');
  if (colon == std::string::npos || colon < image.rfind('/')) return "latest";
  return image.substr(colon + 1);
}

absl::StatusOr<BuilderInfo> KubeInstaller::Info() {
  auto ds = client_->Get(kDaemonSets, ns_, kBuilderName);
  if (absl::IsNotFound(ds.status())) {
    return absl::NotFoundError(absl::StrCat("kim is not installed in namespace \"", ns_,
                                            "\": run \"kim system install\""));
  }
  if (!ds.ok()) return WithUserRoleHint(ds.status(), ns_);
  BuilderInfo info;
  info.namespace_name = ns_;
  info.buildkit_image = ImageOf(*ds, "buildkitd");
  info.agent_image = ImageOf(*ds, "agent");
  info.buildkit_version = TagOf(info.buildkit_image);
  info.agent_version = TagOf(info.agent_image);
  auto nodes = client_->List(kNodes, "", {.label_selector = kBuilderNodeLabel});
  if (!nodes.ok()) return WithUserRoleHint(nodes.status(), ns_, UserScope::kCluster);
  for (const Json& item : nodes->at("items").as_array()) {
    info.nodes.push_back(JsonString(item, {"metadata", "name"}));
  }
  // Readiness as the pods tell it (the DaemonSet's status is only as fresh as its controller).
  auto pods = client_->List(kPods, ns_, {.label_selector = kBuilderPodSelector});
  if (!pods.ok()) return WithUserRoleHint(pods.status(), ns_);
  info.desired = static_cast<int>(info.nodes.size());
  info.ready = ReadyBuilderNodes(*pods, *ds, info.nodes);
  auto endpoint = DiscoverBuilder(*client_, ns_);
  if (endpoint.ok()) {
    info.buildkit_endpoint = absl::StrCat(endpoint->host, ":", endpoint->buildkit_port);
    info.agent_endpoint = absl::StrCat(endpoint->host, ":", endpoint->agent_port);
  }
  auto server = client_->Get(kSecrets, ns_, kServerSecret);
  if (server.ok()) {
    auto cert = InspectCertificate(DecodedField(*server, "tls.crt"));
    if (cert.ok()) info.certificate_expiry = cert->not_after;
  }
  return info;
}

}  // namespace

std::unique_ptr<Installer> NewKubeInstaller(std::shared_ptr<Client> client,
                                            std::string namespace_name) {
  return std::make_unique<KubeInstaller>(std::move(client), std::move(namespace_name));
}

}  // namespace kim::kube
