// The receiving end of distribution over containerd: blobs written under a lease, each checked
// against its digest by containerd, the images labelled for the garbage collector and named only
// once every blob is in. Internal.
#ifndef KIM_LIB_IMAGES_DISTRIBUTION_RECEIVER_H_
#define KIM_LIB_IMAGES_DISTRIBUTION_RECEIVER_H_

#include <memory>

#include "kim/image_service.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/image_receiver.h"

namespace kim {

// The label every receive's lease carries (its value: the first name offered), by which a new
// agent finds what an earlier one left when it died mid-transfer.
inline constexpr char kReceiveLeaseLabel[] = "kim.rancher.io/receive";
// The label naming the agent process a receive lease belongs to ("<PID namespace>:<PID>"), so
// that a starting agent leaves the receives of a live agent beside it alone.
inline constexpr char kReceiverLabel[] = "kim.rancher.io/receiver";

// The record labels CRI reads: every image kim names is CRI's ("managed"), pinned ones too.
inline constexpr char kCriManagedLabel[] = "io.cri-containerd.image";
inline constexpr char kCriPinnedLabel[] = "io.cri-containerd.pinned";

// ImageReceiver::BeginReceive for the containerd behind `connection`; `service` (the same
// containerd's) tells when CRI lists the named images.
absl::StatusOr<std::unique_ptr<ReceiveSession>> BeginContainerdReceive(
    ImageService& service, std::shared_ptr<const ContainerdConnection> connection,
    const TransferOffer& offer);

// ImageReceiver::CollectAbandonedReceives for that containerd.
absl::StatusOr<int> CollectAbandonedContainerdReceives(const ContainerdConnection& connection);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_DISTRIBUTION_RECEIVER_H_
