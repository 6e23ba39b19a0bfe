// Layers kept uncompressed on the node (kim build's default) gzipped for a registry at push
// time, as `docker push` compresses the layers Docker stores as plain diffs. Internal.
#ifndef KIM_LIB_IMAGES_PUSH_COMPRESSION_H_
#define KIM_LIB_IMAGES_PUSH_COMPRESSION_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/descriptor.h"

namespace kim {

// The label an uncompressed layer gets once it has been gzipped: the compressed blob's digest
// (a gc.ref label beside it keeps that blob while the layer lives), so a second push reuses it.
inline constexpr char kGzipLabel[] = "kim.io/gzip";

// True for the media types of an uncompressed layer (OCI's and Docker's tar).
bool IsUncompressedLayer(std::string_view media_type);

// The gzip media type of the same family as uncompressed layer type `media_type`.
std::string GzipLayerMediaType(std::string_view media_type);

// `manifest` (an index or manifest of `media_type`) with every descriptor whose digest is a key
// of `replacements` swapped for its value (media type, digest and size); the bytes as they were
// when nothing matched.
absl::StatusOr<std::string> ReplaceDescriptors(std::string_view media_type,
                                               std::string_view manifest,
                                               const std::map<std::string, Descriptor>& replacements);

// The image under `root` as a registry that needs gzip layers gets it: each uncompressed layer
// gzipped (at zlib `level`) into containerd's content store once, each manifest and index
// referring to one rewritten and stored. Returns the root to push: `root` itself when no layer
// is uncompressed. Written under `lease`.
absl::StatusOr<Descriptor> GzipUncompressedLayers(
    std::shared_ptr<const ContainerdConnection> connection, BlobSource& blobs,
    const Descriptor& root, const std::string& lease, int level);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_PUSH_COMPRESSION_H_
