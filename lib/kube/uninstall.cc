// Uninstall: node labels first, then the builder's objects, then (maybe) the namespace.
#include "lib/kube/uninstall.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/kube/deletion.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/object_helpers.h"
#include "lib/kube/user_access.h"

namespace kim::kube {
namespace {

// Removes the builder role and then the runtime label from every node that has them.
absl::Status RemoveNodeLabels(Client& client, const Progress& progress) {
  for (const char* label : {kBuilderNodeLabel, kRuntimeNodeLabel}) {
    auto labelled = client.List(kNodes, "", {.label_selector = label});
    if (!labelled.ok()) return labelled.status();
    for (const Json& item : labelled->at("items").as_array()) {
      const std::string name = JsonString(item, {"metadata", "name"});
      absl::Status s = label == kBuilderNodeLabel ? RemoveBuilderRole(client, name, progress)
                                                  : RemoveRuntimeLabel(client, name, progress);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status UninstallBuilder(Client& client, const std::string& ns,
                              const UninstallOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  if (absl::Status s = RemoveNodeLabels(client, options.progress); !s.ok()) return s;
  // The ClusterRole kim-user is cluster-wide: removed even when the namespace is already gone.
  // Bindings to it are the admin's: they stay (docs/security.md).
  Say(options.progress, absl::StrCat("Deleting the ClusterRole `", kUserRoleName, "`"));
  if (absl::Status s = IgnoreNotFound(client.Delete(kClusterRoles, "", kUserRoleName)); !s.ok()) {
    return s;
  }
  auto namespace_object = client.Get(kNamespaces, "", ns);
  if (absl::IsNotFound(namespace_object.status())) {
    Say(options.progress, absl::StrCat("Namespace `", ns, "` does not exist"));
    return absl::OkStatus();
  }
  if (!namespace_object.ok()) return namespace_object.status();

  std::vector<std::pair<const Resource*, std::string>> objects = {
      {&kDaemonSets, kBuilderName}, {&kEndpoints, kBuilderName}, {&kServices, kBuilderName},
      {&kServiceAccounts, kBuilderName}, {&kRoles, kUserRoleName}};
  for (const char* flavour : kRuntimeFlavours) {
    objects.push_back({&kDaemonSets, AgentDaemonSetName(flavour)});
  }
  auto secrets = client.List(kSecrets, ns, {.label_selector = absl::StrCat(kManagedByLabel, "=kim")});
  if (!secrets.ok()) return secrets.status();
  for (const Json& secret : secrets->at("items").as_array()) {
    objects.push_back({&kSecrets, JsonString(secret, {"metadata", "name"})});
  }
  Say(options.progress, absl::StrCat("Deleting the builder from namespace `", ns, "`"));
  for (const auto& [resource, name] : objects) {
    if (absl::Status s = IgnoreNotFound(client.Delete(*resource, ns, name)); !s.ok()) return s;
  }
  if (!options.no_wait) {
    for (const auto& [resource, name] : objects) {
      absl::Status s = WaitDeleted(client, *resource, ns, name, deadline, options.timeout,
                                   options.progress);
      if (!s.ok()) return s;
    }
  }
  const bool ours = Label(*namespace_object, kManagedByLabel) == "kim";
  if (!ours && !options.force) {
    Say(options.progress, absl::StrCat("Leaving namespace `", ns,
                                       "` in place: kim did not create it (--force deletes it)"));
    return absl::OkStatus();
  }
  Say(options.progress, absl::StrCat("Deleting namespace `", ns, "`"));
  if (absl::Status s = IgnoreNotFound(client.Delete(kNamespaces, "", ns)); !s.ok()) return s;
  if (options.no_wait) {
    Say(options.progress, "Not waiting for the deletions to finish (--no-wait)");
    return absl::OkStatus();
  }
  return WaitDeleted(client, kNamespaces, "", ns, deadline, options.timeout, options.progress);
}

}  // namespace kim::kube
