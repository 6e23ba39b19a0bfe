// Which images containerd's containers use: read from the containers service of the namespace,
// so it covers CRI's containers (the kubelet's) and those `ctr` or nerdctl made. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_IMAGE_USERS_H_
#define KIM_LIB_IMAGES_CONTAINERD_IMAGE_USERS_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/image_service.h"
#include "lib/images/containerd_connection.h"

namespace kim {

// For every image of `images` that at least one container uses, its ID and the number of such
// containers. A container names its image in its record's `image` field (a reference or ID, as
// `ctr` sets it) or, for CRI containers, in the ImageRef of its CRI metadata extension; and
// every container is matched by its root filesystem too, which catches CRI's sandboxes (whose
// pause image is recorded nowhere) and names that moved to another image since: the parent of
// its snapshot is the chain ID of its image's layers, and every image with that chain ID counts
// as used (images sharing one layer stack are all kept).
// Returns the containers or snapshots service's error when they cannot be read: callers must
// then not prune anything.
// `chain_ids`, when given, caches image ID -> chain ID across calls (configs are immutable).
absl::StatusOr<std::map<std::string, int>> ImageUsers(
    const std::shared_ptr<ContainerdConnection>& connection, const std::vector<Image>& images,
    std::map<std::string, std::string>* chain_ids = nullptr);

// The ImageRef of CRI's container metadata extension (JSON {"Version":"v1","Metadata":{...}}),
// or "" when there is none.
std::string CriMetadataImageRef(std::string_view extension_json);

// The chain ID of the layers an image config lists in rootfs.diff_ids (the name containerd
// gives the committed snapshot of the top layer), or "" when it lists none or does not parse.
std::string ImageConfigChainId(std::string_view config_json);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_IMAGE_USERS_H_
