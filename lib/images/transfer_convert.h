// Conversions between distribution's types (kim/distribution.h, image_receiver.h) and the kim
// agent API's messages (Images.Distribute, Transfer.Receive). Internal.
#ifndef KIM_LIB_IMAGES_TRANSFER_CONVERT_H_
#define KIM_LIB_IMAGES_TRANSFER_CONVERT_H_

#include "kim/agent/v1/agent.pb.h"
#include "kim/distribution.h"
#include "lib/images/descriptor.h"
#include "lib/images/image_receiver.h"

namespace kim {

// Descriptor <-> kim.agent.v1.BlobDescriptor (media type, digest, size).
agent::v1::BlobDescriptor ToProto(const Descriptor& blob);
Descriptor FromProto(const agent::v1::BlobDescriptor& blob);

// TransferOffer <-> kim.agent.v1.TransferOffer.
agent::v1::TransferOffer ToProto(const TransferOffer& offer);
TransferOffer FromProto(const agent::v1::TransferOffer& offer);

// AgentTarget <-> kim.agent.v1.AgentTarget.
agent::v1::AgentTarget ToProto(const AgentTarget& target);
AgentTarget FromProto(const agent::v1::AgentTarget& target);

// DistributeProgress <-> kim.agent.v1.DistributeProgress.
agent::v1::DistributeProgress ToProto(const DistributeProgress& progress);
DistributeProgress FromProto(const agent::v1::DistributeProgress& progress);

// NodeDistribution <-> kim.agent.v1.NodeDistribution (the status as code and message).
agent::v1::NodeDistribution ToProto(const NodeDistribution& result);
NodeDistribution FromProto(const agent::v1::NodeDistribution& result);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_TRANSFER_CONVERT_H_
