// The image documents kim reads back from containerd's content store: the config's creation
// date, and the blobs an index or manifest refers to. Pure parsing; internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_IMAGE_JSON_H_
#define KIM_LIB_IMAGES_CONTAINERD_IMAGE_JSON_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/images/descriptor.h"

namespace kim {

// The "created" date of an image config (RFC 3339, as Docker and BuildKit write it), or
// InfinitePast when the config has none or it does not parse (Docker shows such images as
// created "N/A"; a bad date is not worth failing a listing for).
absl::Time ImageConfigCreated(std::string_view config_json);

// The entries of an index / manifest list ("manifests"), with their platforms. InvalidArgument
// when `json` is not an object with a "manifests" array of descriptors.
absl::StatusOr<std::vector<Descriptor>> IndexManifests(std::string_view json);

// The blobs of a single-platform manifest: the config first, then the layers in order.
// InvalidArgument when `json` is not such a manifest.
absl::StatusOr<std::vector<Descriptor>> ManifestBlobs(std::string_view json);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_IMAGE_JSON_H_
