// Small helpers the installer's parts share: progress lines, Secret fields, labels, and the
// builder node role. Internal to libkim.
#ifndef KIM_LIB_KUBE_OBJECT_HELPERS_H_
#define KIM_LIB_KUBE_OBJECT_HELPERS_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "lib/kube/client.h"

namespace kim::kube {

// Where the installer's step lines go; may be null (silent).
using Progress = std::function<void(std::string_view)>;

// Sends `line` to `progress` when there is one.
void Say(const Progress& progress, const std::string& line);

// The base64-decoded value of `data[key]` of a Secret; empty when missing.
std::string DecodedField(const Json& secret, const char* key);

// The value of label `key` of an object; empty when missing.
std::string Label(const Json& object, const std::string& key);

// OK for NotFound, `status` otherwise: deleting what is already gone is fine.
absl::Status IgnoreNotFound(absl::Status status);

// Sets the labels of node `name` to `labels`' values in one merge patch; an empty value removes
// the label. A node that is gone is fine.
absl::Status PatchNodeLabels(Client& client, const std::string& name,
                             const std::map<std::string, std::string>& labels);

// Removes the builder node role label from node `name`, saying so.
absl::Status RemoveBuilderRole(Client& client, const std::string& name, const Progress& progress);

// Removes kim's runtime label (kim.rancher.io/runtime) from node `name`, saying so.
absl::Status RemoveRuntimeLabel(Client& client, const std::string& name, const Progress& progress);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_OBJECT_HELPERS_H_
