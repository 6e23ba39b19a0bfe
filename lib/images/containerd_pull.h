// The decisions a CRI pull needs before it starts: which credentials go to the registry, and
// whether the requested platform can be honoured. Pure logic; internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_PULL_H_
#define KIM_LIB_IMAGES_CONTAINERD_PULL_H_

#include <string_view>

#include "absl/status/status.h"
#include "kim/credentials.h"
#include "kim/platform.h"
#include "kim/reference.h"

namespace kim {

// True when `credentials` should be sent to the registry of `image`: they are not empty, and
// they were found for that registry (`server_address`, reduced to a host like Docker's
// ConvertToHostname, names the image's domain; any Docker Hub spelling matches any other) or
// carry no server address at all. Credentials for another registry are never sent.
bool CredentialsApply(const RegistryCredentials& credentials, const ImageReference& image);

// OK when a pull for `requested` ("os/arch[/variant]"; empty = the node's) can be done by
// containerd's CRI, which always pulls the platform of `node`. InvalidArgument for a malformed
// platform (the parser's message), and for another platform:
// `cannot pull linux/arm64 images: containerd's CRI pulls only the node's platform (linux/amd64)`.
absl::Status CheckPullPlatform(std::string_view requested, const Platform& node);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_PULL_H_
