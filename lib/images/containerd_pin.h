// Pinning images against the kubelet's image garbage collector: the label
// io.cri-containerd.pinned=pinned on every record of an image, which containerd >= 1.7's CRI
// reports as a pinned image (containerd 1.6 ignores it). Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_PIN_H_
#define KIM_LIB_IMAGES_CONTAINERD_PIN_H_

#include <string>
#include <vector>

#include "kim/image_service.h"
#include "lib/images/containerd_connection.h"

namespace kim {

// ImageService::Pin for the containerd behind `connection`; `service` (the same containerd's)
// resolves the arguments. Every record of each image (its tags, repo digests and ID record)
// gets (or loses) the label; other labels stay. Fails at the first image it cannot change,
// naming it; NotFound before any change for an unknown one.
absl::Status PinContainerdImages(ImageService& service, const ContainerdConnection& connection,
                                 const std::vector<std::string>& images, bool pinned);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_PIN_H_
