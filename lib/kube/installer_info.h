// `kim system info`: what is installed, and how each node kim serves stands. Internal to libkim.
#ifndef KIM_LIB_KUBE_INSTALLER_INFO_H_
#define KIM_LIB_KUBE_INSTALLER_INFO_H_

#include <string>

#include "absl/status/statusor.h"
#include "kim/installer.h"
#include "lib/kube/client.h"

namespace kim::kube {

// Describes the builder installed in namespace `ns` and every node it serves (builder nodes and
// agent-only nodes, by name) as the pods tell it. NotFound when kim is not installed there; a
// 403 names the kim-user binding that grants what is missing.
absl::StatusOr<BuilderInfo> ReadBuilderInfo(Client& client, const std::string& ns);

// The tag of an image reference ("latest" when it has none).
std::string ImageTag(const std::string& image);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_INSTALLER_INFO_H_
