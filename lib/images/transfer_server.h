// The Transfer service of kim-agent: receives images from another node's agent (offer, wants,
// chunks, commit) into the node's image backend. Internal.
#ifndef KIM_LIB_IMAGES_TRANSFER_SERVER_H_
#define KIM_LIB_IMAGES_TRANSFER_SERVER_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "kim/image_service.h"

namespace kim {

// The service over `images`, which receives when it is an ImageReceiver (containerd's, or the
// lazy service over it); otherwise every call answers UNIMPLEMENTED.
std::unique_ptr<grpc::Service> NewTransferService(std::shared_ptr<ImageService> images);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_TRANSFER_SERVER_H_
