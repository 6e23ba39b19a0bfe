// Helpers shared by the installer's parts.
#include "lib/kube/object_helpers.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/installer_objects.h"

namespace kim::kube {

void Say(const Progress& progress, const std::string& line) {
  if (progress) progress(line);
}

std::string DecodedField(const Json& secret, const char* key) {
  std::string decoded;
  absl::Base64Unescape(JsonString(secret, {"data", key}), &decoded);
  return decoded;
}

std::string Label(const Json& object, const std::string& key) {
  const Json* labels = JsonAt(object, {"metadata", "labels"});
  if (labels == nullptr || !labels->is_object() || !labels->has_field(key)) return "";
  const Json& value = labels->at(key);
  return value.is_string() ? value.as_string() : "";
}

absl::Status IgnoreNotFound(absl::Status status) {
  return absl::IsNotFound(status) ? absl::OkStatus() : status;
}

absl::Status PatchNodeLabels(Client& client, const std::string& name,
                             const std::map<std::string, std::string>& labels) {
  Json values = Json::object();
  for (const auto& [key, value] : labels) values[key] = value.empty() ? Json::null() : Json::string(value);
  Json patch = Json::object();
  patch["metadata"] = Json::object();
  patch["metadata"]["labels"] = values;
  return IgnoreNotFound(client.MergePatch(kNodes, "", name, patch).status());
}

absl::Status RemoveBuilderRole(Client& client, const std::string& name, const Progress& progress) {
  Say(progress, absl::StrCat("Removing node-role `builder` from node `", name, "`"));
  return PatchNodeLabels(client, name, {{kBuilderNodeLabel, ""}});
}

absl::Status RemoveRuntimeLabel(Client& client, const std::string& name, const Progress& progress) {
  Say(progress, absl::StrCat("Removing label `", kRuntimeNodeLabel, "` from node `", name, "`"));
  return PatchNodeLabels(client, name, {{kRuntimeNodeLabel, ""}});
}

}  // namespace kim::kube
