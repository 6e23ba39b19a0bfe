// Which images containerd's containers use: read from the containers service of the namespace,
// so it covers CRI's containers (the kubelet's) and those `ctr` or nerdctl made. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_IMAGE_USERS_H_
#define KIM_LIB_IMAGES_CONTAINERD_IMAGE_USERS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/image_service.h"
#include "lib/images/containerd_connection.h"

namespace kim {

// For every image of `images` that at least one container uses, its ID and the number of such
// containers. A container names its image in its record's `image` field (a reference or ID, as
// `ctr` sets it) or, for CRI containers, in the ImageRef of its CRI metadata extension. A
// container naming an image that is not in `images` counts for none. Unavailable (or the
// containers service's error) when the containers cannot be listed: callers must then not
// prune anything.
absl::StatusOr<std::map<std::string, int>> ImageUsers(const ContainerdConnection& connection,
                                                      const std::vector<Image>& images);

// The ImageRef of CRI's container metadata extension (JSON {"Version":"v1","Metadata":{...}}),
// or "" when there is none.
std::string CriMetadataImageRef(std::string_view extension_json);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_IMAGE_USERS_H_
