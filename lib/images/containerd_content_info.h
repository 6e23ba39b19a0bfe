// What kim asks and tells containerd's content store about blobs it already has: whether a blob
// is there, and the labels that tie an image's blobs together for the garbage collector (the
// ones containerd's own imports and CRI's pulls set). Shared by load and distribution. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_CONTENT_INFO_H_
#define KIM_LIB_IMAGES_CONTAINERD_CONTENT_INFO_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/descriptor.h"

namespace kim {

// True when the content store has the committed blob `digest`, false when not (NotFound);
// containerd's error otherwise.
absl::StatusOr<bool> ContentExists(const ContainerdConnection& connection,
                                   const std::string& digest);

// Sets `labels` on the blob `digest` (other labels stay), in `lease` when not empty.
absl::Status LabelContent(const ContainerdConnection& connection, const std::string& lease,
                          const std::string& digest,
                          const std::map<std::string, std::string>& labels);

// The garbage-collection labels of an index: containerd.io/gc.ref.content.m.<i> = each entry.
std::map<std::string, std::string> IndexGcLabels(const std::vector<Descriptor>& entries);

// The garbage-collection labels of a manifest whose blobs (ManifestBlobs: config first, then
// the layers) are `blobs`: containerd.io/gc.ref.content.config and ...l.<i>.
std::map<std::string, std::string> ManifestGcLabels(const std::vector<Descriptor>& blobs);

// The label containerd's unpacker and CRI's pulls put on a layer: its uncompressed digest.
inline constexpr char kUncompressedLabel[] = "containerd.io/uncompressed";

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_CONTENT_INFO_H_
