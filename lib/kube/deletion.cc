// Waiting for deletions, and naming what holds an object that does not go.
#include "lib/kube/deletion.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kim::kube {
namespace {

// Kinds often found in a namespace, checked when it does not finalize (the kinds kim creates
// and the common workload, config and RBAC kinds).
constexpr Resource kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
constexpr Resource kClaims{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true};
constexpr Resource kDeployments{"apps", "v1", "deployments", "Deployment", true};
constexpr Resource kReplicaSets{"apps", "v1", "replicasets", "ReplicaSet", true};
constexpr Resource kStatefulSets{"apps", "v1", "statefulsets", "StatefulSet", true};
constexpr Resource kRevisions{"apps", "v1", "controllerrevisions", "ControllerRevision", true};
constexpr Resource kJobs{"batch", "v1", "jobs", "Job", true};
constexpr Resource kCronJobs{"batch", "v1", "cronjobs", "CronJob", true};
constexpr Resource kRoles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
constexpr Resource kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
constexpr Resource kIngresses{"networking.k8s.io", "v1", "ingresses", "Ingress", true};
constexpr const Resource* kNamespacedKinds[] = {
    &kPods,    &kDaemonSets,  &kDeployments, &kReplicaSets,      &kStatefulSets, &kJobs,
    &kCronJobs, &kServices,   &kEndpoints,   &kIngresses,        &kConfigMaps,   &kSecrets,
    &kClaims,  &kServiceAccounts, &kRoles,   &kRoleBindings,     &kRevisions};
constexpr size_t kNamesPerKind = 5;

std::vector<std::string> StringsAt(const Json& object, std::initializer_list<const char*> path) {
  std::vector<std::string> out;
  const Json* array = JsonAt(object, path);
  if (array == nullptr || !array->is_array()) return out;
  for (const Json& item : array->as_array()) {
    if (item.is_string()) out.push_back(item.as_string());
  }
  return out;
}

// "configmaps/a, secrets/b" for what is left in namespace `ns` (kinds that cannot be listed
// are skipped: the answer is a diagnosis, not a guarantee).
std::string RemainingObjects(Client& client, const std::string& ns) {
  std::vector<std::string> found;
  for (const Resource* kind : kNamespacedKinds) {
    auto list = client.List(*kind, ns);
    if (!list.ok()) continue;
    const Json* items = JsonAt(*list, {"items"});
    if (items == nullptr || !items->is_array()) continue;
    size_t shown = 0;
    for (const Json& item : items->as_array()) {
      if (shown++ == kNamesPerKind) {
        found.push_back(absl::StrCat("and ", items->size() - kNamesPerKind, " more ", kind->plural));
        break;
      }
      found.push_back(absl::StrCat(kind->plural, "/", JsonString(item, {"metadata", "name"})));
    }
  }
  return absl::StrJoin(found, ", ");
}

// "Type: message" for each condition that is True.
std::vector<std::string> TrueConditions(const Json& object) {
  std::vector<std::string> out;
  const Json* conditions = JsonAt(object, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return out;
  for (const Json& condition : conditions->as_array()) {
    if (JsonString(condition, {"status"}) != "True") continue;
    std::string text = JsonString(condition, {"type"});
    if (const std::string message = JsonString(condition, {"message"}); !message.empty()) {
      absl::StrAppend(&text, ": ", message);
    }
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace

std::string DescribeHold(Client& client, const Resource& resource, const Json& object) {
  std::vector<std::string> parts;
  std::vector<std::string> finalizers = StringsAt(object, {"metadata", "finalizers"});
  const bool is_namespace = std::string(resource.plural) == kNamespaces.plural;
  const std::vector<std::string> spec_finalizers =
      is_namespace ? StringsAt(object, {"spec", "finalizers"}) : std::vector<std::string>{};
  finalizers.insert(finalizers.begin(), spec_finalizers.begin(), spec_finalizers.end());
  if (!finalizers.empty()) parts.push_back(absl::StrCat("finalizers ", absl::StrJoin(finalizers, ", ")));
  if (!is_namespace) return absl::StrJoin(parts, "; ");

  const std::vector<std::string> conditions = TrueConditions(object);
  if (!conditions.empty()) parts.push_back(absl::StrCat("conditions: ", absl::StrJoin(conditions, "; ")));
  const std::string name = JsonString(object, {"metadata", "name"});
  const std::string remaining = RemainingObjects(client, name);
  parts.push_back(remaining.empty() ? std::string("no objects of the common kinds left in it")
                                    : absl::StrCat("still in it: ", remaining));
  std::string text = absl::StrJoin(parts, "; ");
  const bool controller_pending =
      std::find(spec_finalizers.begin(), spec_finalizers.end(), "kubernetes") != spec_finalizers.end();
  if (controller_pending && conditions.empty()) {
    absl::StrAppend(&text, " (the namespace controller of kube-controller-manager empties a "
                           "deleted namespace and removes its \"kubernetes\" finalizer: is it "
                           "running? kubectl get namespace ", name, " -o yaml)");
  }
  return text;
}

absl::Status WaitDeleted(Client& client, const Resource& resource, const std::string& ns,
                         const std::string& name, absl::Time deadline, absl::Duration timeout,
                         const Progress& progress) {
  bool said = false;
  std::optional<Json> last;
  auto gone = client.WaitFor(resource, ns, name, deadline, [&](const std::optional<Json>& object) {
    if (object && !said) {
      Say(progress, absl::StrCat("Waiting for ", resource.plural, " \"", name, "\" to be deleted"));
      said = true;
    }
    last = object;
    return !object.has_value();
  });
  if (!absl::IsDeadlineExceeded(gone.status())) return gone.status();
  std::string what = absl::StrCat(resource.plural, " \"", name, "\"");
  if (resource.namespaced && !ns.empty()) absl::StrAppend(&what, " in namespace \"", ns, "\"");
  // Read it once more: the diagnosis should describe its state now.
  auto current = client.Get(resource, ns, name);
  if (absl::IsNotFound(current.status())) return absl::OkStatus();
  const Json& object = current.ok() ? *current : last.value_or(Json::object());
  const std::string hold = DescribeHold(client, resource, object);
  return absl::DeadlineExceededError(absl::StrCat("timed out after ", absl::FormatDuration(timeout),
                                                  " waiting for ", what, " to be deleted",
                                                  hold.empty() ? "" : ": ", hold));
}

}  // namespace kim::kube
