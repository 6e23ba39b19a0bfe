// A BlobSource over an OCI image layout directory (index.json, oci-layout, blobs/<alg>/<hex>),
// e.g. what `umoci`, `skopeo copy oci:` or `buildctl -o type=oci` (unpacked) write. Lets the
// registry client push without containerd. Internal to libkim.
#ifndef KIM_LIB_IMAGES_OCI_LAYOUT_SOURCE_H_
#define KIM_LIB_IMAGES_OCI_LAYOUT_SOURCE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/images/descriptor.h"

namespace kim {

// Reads blobs from `directory`/blobs/<algorithm>/<hex>. Stateless apart from the directory, so
// thread-safe.
class OciLayoutSource : public BlobSource {
 public:
  explicit OciLayoutSource(std::string directory) : directory_(std::move(directory)) {}

  // The whole blob, checked against the descriptor's size and digest. NotFound when the file
  // is absent; DataLoss when it does not match; InvalidArgument for a malformed digest.
  absl::StatusOr<std::string> ReadAll(const Descriptor& blob) override;

  // The blob in pieces of at most `chunk_size` bytes through one reused buffer (memory is
  // bounded by `chunk_size`); checks the size but not the digest (the receiver does that).
  absl::Status ReadChunks(const Descriptor& blob, size_t chunk_size,
                          const std::function<absl::Status(std::string_view)>& sink) override;

  const std::string& directory() const { return directory_; }

  // The path of `digest`'s blob; InvalidArgument when `digest` is malformed (so no path outside
  // the layout can be named).
  absl::StatusOr<std::string> BlobPath(std::string_view digest) const;

 private:
  std::string directory_;
};

// The manifests listed in `directory`/index.json. NotFound when it does not exist.
absl::StatusOr<std::vector<Descriptor>> ReadOciLayoutIndex(const std::string& directory);

// The entry of `directory`/index.json whose "org.opencontainers.image.ref.name" annotation is
// `tag` ("1", "latest"; a full reference name also matches). NotFound, listing the tags that are
// there, when none is.
absl::StatusOr<Descriptor> FindOciLayoutTag(const std::string& directory, std::string_view tag);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_OCI_LAYOUT_SOURCE_H_
