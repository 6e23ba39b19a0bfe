// The sending end of distribution: the images planned once, then one Transfer.Receive stream per
// target node, all in parallel, each sending only what its node lacks. Internal.
#ifndef KIM_LIB_IMAGES_DISTRIBUTION_SENDER_H_
#define KIM_LIB_IMAGES_DISTRIBUTION_SENDER_H_

#include <memory>
#include <string>
#include <vector>

#include "kim/image_service.h"
#include "lib/images/containerd_connection.h"

namespace kim {

// ImageService::Distribute for the containerd behind `connection`; `service` (the same
// containerd's) resolves the arguments. A lease keeps what is sent for as long as it is read.
// Errors of one node are its NodeDistribution's, prefixed `node "NAME": `; the call fails only
// for images it cannot resolve (see PlanDistribution) or when there is no target.
absl::StatusOr<std::vector<NodeDistribution>> DistributeContainerdImages(
    ImageService& service, std::shared_ptr<const ContainerdConnection> connection,
    const std::vector<std::string>& images, const DistributeOptions& options);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_DISTRIBUTION_SENDER_H_
