// Credentials and platform checks for CRI pulls.
#include "lib/images/containerd_pull.h"

#include "absl/strings/str_cat.h"

namespace kim {

bool CredentialsApply(const RegistryCredentials& credentials, const ImageReference& image) {
  if (credentials.empty()) return false;
  if (credentials.server_address.empty()) return true;
  const std::string host = ConvertToHostname(credentials.server_address);
  if (IsDockerHub(host) && IsDockerHub(image.Domain())) return true;
  return host == image.Domain();
}

absl::Status CheckPullPlatform(std::string_view requested, const Platform& node) {
  if (requested.empty()) return absl::OkStatus();
  auto platform = ParsePlatform(requested);
  if (!platform.ok()) return platform.status();
  if (platform->Matches(node)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot pull ", platform->String(), " images: containerd's CRI pulls only the node's platform (",
      node.String(), ")"));
}

}  // namespace kim
