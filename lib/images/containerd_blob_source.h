// A BlobSource over containerd's content service: the blobs of images in one namespace, read
// through the streaming Read call. What the registry client pushes from. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_BLOB_SOURCE_H_
#define KIM_LIB_IMAGES_CONTAINERD_BLOB_SOURCE_H_

#include <memory>

#include "lib/images/containerd_connection.h"
#include "lib/images/descriptor.h"

namespace kim {

// Reads committed blobs of containerd's content store. Thread-safe.
class ContainerdBlobSource final : public BlobSource {
 public:
  explicit ContainerdBlobSource(std::shared_ptr<const ContainerdConnection> connection)
      : connection_(std::move(connection)) {}

  // The whole blob, checked against `blob.digest` (DataLoss when it differs) and `blob.size`
  // when non-zero. NotFound `content sha256:...: not found` when containerd does not have it.
  // Bounded by the connection's short-call timeout.
  absl::StatusOr<std::string> ReadAll(const Descriptor& blob) override;

  // Streams the blob to `sink` in pieces of at most `chunk_size` bytes (containerd's own chunks,
  // split when larger). No deadline: a layer takes as long as the consumer needs. Does not check
  // the digest (the consumer hashes what it sends). NotFound as for ReadAll.
  absl::Status ReadChunks(const Descriptor& blob, size_t chunk_size,
                          const std::function<absl::Status(std::string_view)>& sink) override;

 private:
  std::shared_ptr<const ContainerdConnection> connection_;
};

// A ContainerdBlobSource on a connection of its own; Unavailable with a hint when containerd
// cannot be reached (see ContainerdConnection::Open).
absl::StatusOr<std::unique_ptr<BlobSource>> NewContainerdBlobSource(
    const ContainerdOptions& options);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_BLOB_SOURCE_H_
