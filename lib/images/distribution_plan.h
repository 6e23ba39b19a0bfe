// What a distribution sends: the images behind the arguments, each with every name it has on
// this node, and the blobs of their closure this node has. Internal.
#ifndef KIM_LIB_IMAGES_DISTRIBUTION_PLAN_H_
#define KIM_LIB_IMAGES_DISTRIBUTION_PLAN_H_

#include <string>
#include <vector>

#include "kim/image_service.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/descriptor.h"
#include "lib/images/image_receiver.h"

namespace kim {

// Resolves `images` (references, IDs, ID prefixes; `service` finds them) into the offer every
// receiver gets: one OfferedImage per distinct target, named by every tag, repo digest and ID
// record of the image that points there; and the blobs, each once. A manifest comes with its
// config and layers; an index with the platform manifests this node has complete (the node's
// own platform must be among them). NotFound for an unknown image, FailedPrecondition when a
// blob the node's platform needs is missing here.
absl::StatusOr<TransferOffer> PlanDistribution(ImageService& service,
                                               const ContainerdConnection& connection,
                                               BlobSource& blobs,
                                               const std::vector<std::string>& images);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_DISTRIBUTION_PLAN_H_
