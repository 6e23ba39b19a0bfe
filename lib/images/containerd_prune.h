// `docker image prune` on containerd (namespace k8s.io). Internal; reached through
// ImageService::Prune of the containerd image service.
//
// What "dangling" means here: containerd has no untagged-but-present image of its own, but CRI
// groups records by image (config) ID, and an image whose records are only its ID record
// ("sha256:<id>") and/or repo digests ("name@sha256:...") has no tag: `kim images -a` shows it
// as <none>:<none>. That is the dangling set: images pulled by digest only, and images whose
// tags all moved to other images or were removed while a digest or ID record stayed.
#ifndef KIM_LIB_IMAGES_CONTAINERD_PRUNE_H_
#define KIM_LIB_IMAGES_CONTAINERD_PRUNE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "kim/image_service.h"
#include "lib/images/containerd_connection.h"

namespace kim {

// Prunes as ImageService::Prune says. Never prunes an image that a container of the namespace
// uses (containers are listed once for the plan and again just before each image goes); each
// record is deleted only while it still points at the image being pruned, and an image that
// got a tag meanwhile keeps it (reported in `warnings`, not as deleted). The ID record goes
// last, with sync, so containerd collects the image's blobs before this returns. Returns once
// CRI's view no longer shows the deleted images, or after 5 s.
absl::StatusOr<PruneReport> PruneContainerdImages(
    const std::shared_ptr<ContainerdConnection>& connection, const PruneOptions& options);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_PRUNE_H_
