// The receiving side of agent-to-agent distribution, independent of the wire: what an offer is,
// and the session that takes the blobs a node lacks and names the images once all are in.
// Implemented over containerd (distribution_receiver.h); the Transfer service drives it.
// Internal.
#ifndef KIM_LIB_IMAGES_IMAGE_RECEIVER_H_
#define KIM_LIB_IMAGES_IMAGE_RECEIVER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/images/descriptor.h"

namespace kim {

// One image offered: the names that point at one target (a manifest or an index).
struct OfferedImage {
  std::vector<std::string> names;  // fully qualified; "sha256:..." is the image ID record
  Descriptor target;
};

// What a sender offers: the images and every blob of their closure that it has, each once.
struct TransferOffer {
  std::vector<OfferedImage> images;
  std::vector<Descriptor> blobs;
  bool pin = false;  // label the records io.cri-containerd.pinned=pinned
};

// One receive in progress. Destroying it before Commit succeeded leaves nothing behind: its
// lease goes, with synchronous garbage collection. Not thread-safe.
class ReceiveSession {
 public:
  virtual ~ReceiveSession() = default;

  // The offered blobs the node lacks, in the offer's order: only these are to be written.
  virtual const std::vector<Descriptor>& missing() const = 0;

  // Appends `data` at `offset` to the wanted blob `digest`; blobs come one after the other. A
  // blob is committed (and checked against its digest) when its last byte arrives: DataLoss
  // naming the blob and both digests when it does not match.
  virtual absl::Status Write(const std::string& digest, int64_t offset, std::string_view data) = 0;

  // Every wanted blob is in: labels the images' blobs for the garbage collector, creates their
  // records (all names or none) and waits until CRI lists them. Returns the names.
  virtual absl::StatusOr<std::vector<std::string>> Commit() = 0;
};

// An image backend that can receive images from another node.
class ImageReceiver {
 public:
  virtual ~ImageReceiver() = default;

  // Starts a receive of `offer`: checks it, puts the blobs the node has under a lease (so they
  // stay until the images are named) and works out those it lacks. InvalidArgument for an offer
  // that is malformed (an image whose target is not among the blobs, a bad name or digest).
  virtual absl::StatusOr<std::unique_ptr<ReceiveSession>> BeginReceive(
      const TransferOffer& offer) = 0;

  // Removes what receives of an earlier agent left when it died mid-transfer (their leases,
  // with what only those held); returns how many there were. kim-agent calls it at start.
  virtual absl::StatusOr<int> CollectAbandonedReceives() = 0;
};

}  // namespace kim

#endif  // KIM_LIB_IMAGES_IMAGE_RECEIVER_H_
