// What ImageService::Inspect reads from containerd for one image: the manifest its record points
// at (the node's entry of an index), the config blob, the layers, and the unpacked size of each
// layer from the snapshotter the image was unpacked into. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_INSPECT_H_
#define KIM_LIB_IMAGES_CONTAINERD_INSPECT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/image_service.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/descriptor.h"

namespace kim {

// Fills ImageDetails for `image` (as CRI lists it, `created` set) whose containerd record points
// at `target`. Reads blobs through `blobs`. Unpacked sizes come from the snapshots service when
// the config blob's `containerd.io/gc.ref.snapshot.overlayfs` label says the image was unpacked
// there (overlayfs keeps each layer's files apart); otherwise they stay -1. NotFound when the
// index has no entry for the node's platform; FailedPrecondition when a manifest or the config
// is missing or is not what the image ID says.
absl::StatusOr<ImageDetails> InspectContainerdImage(
    const std::shared_ptr<ContainerdConnection>& connection, BlobSource& blobs, Image image,
    const Descriptor& target);

// The "rootfs"."diff_ids" of an image config, in order; empty when absent or malformed.
std::vector<std::string> ConfigDiffIds(std::string_view config_json);

// The OCI chain IDs of layers with these diff IDs: the first is its diff ID, each next one is
// sha256("<previous chain ID> <diff ID>"). The names containerd gives the layers' snapshots.
std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_INSPECT_H_
