// What `docker rmi ARG` does to one image, decided from the image's names alone: which names go
// and whether the image itself goes. Pure logic; internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_REMOVE_PLAN_H_
#define KIM_LIB_IMAGES_CONTAINERD_REMOVE_PLAN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/image_service.h"

namespace kim {

struct RemovePlan {
  // Names to delete and report as "Untagged", in order (repo tags and repo digests).
  std::vector<std::string> untag;
  // The image goes too: its "sha256:<id>" record and any name left, reported "Deleted: <id>".
  bool delete_image = false;
};

// Plans `docker rmi` of `image`, reached through `reference` (a fully qualified repo tag or repo
// digest of the image) or, when `reference` is empty, through its ID or an ID prefix.
//  * By reference: that name goes. When it was a tag and no other tag of the same repository
//    is left, that repository's digests go too (Docker). When no repo tag is left at all, the
//    image goes with all its remaining names. A digest reference of an image without tags
//    deletes the image when it was its last name.
//  * By ID: every name goes and the image with them; when the names span more than one
//    repository this needs `force`, else FailedPrecondition `conflict: unable to delete
//    0123456789ab (must be forced) - image is referenced in multiple repositories`.
absl::StatusOr<RemovePlan> PlanRemoval(const Image& image, const std::string& reference, bool force);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_REMOVE_PLAN_H_
