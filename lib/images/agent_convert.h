// Conversions between libkim's image types and the kim agent API's messages, shared by the
// agent's server adapter and its client. Internal to libkim.
#ifndef KIM_LIB_IMAGES_AGENT_CONVERT_H_
#define KIM_LIB_IMAGES_AGENT_CONVERT_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "kim/agent/v1/agent.pb.h"
#include "kim/image_service.h"

namespace kim {

// Image <-> kim.agent.v1.Image.
agent::v1::Image ToProto(const Image& image);
Image FromProto(const agent::v1::Image& image);

// ImageDetails <-> kim.agent.v1.InspectResponse (Inspect).
agent::v1::InspectResponse ToProto(const ImageDetails& details);
ImageDetails FromProto(const agent::v1::InspectResponse& response);

// BlobProgress <-> kim.agent.v1.LayerProgress.
agent::v1::LayerProgress ToProto(const BlobProgress& progress);
BlobProgress FromProto(const agent::v1::LayerProgress& progress);

// RegistryCredentials <-> kim.agent.v1.RegistryAuth.
agent::v1::RegistryAuth ToProto(const RegistryCredentials& credentials);
RegistryCredentials FromProto(const agent::v1::RegistryAuth& auth);

// absl::Status <-> grpc::Status (the codes are the same numbers).
grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);

// Trailing metadata key the agent sets on a failed call when the failure is its own answer (its
// containerd is unreachable, say), not a broken connection to it.
inline constexpr char kAgentAnswerKey[] = "kim-agent-answer";

// Initial metadata key the agent sends as soon as it takes on a pull or push: a connection that
// breaks after it is an interruption of work under way.
inline constexpr char kAgentStartedKey[] = "kim-agent-started";

}  // namespace kim

#endif  // KIM_LIB_IMAGES_AGENT_CONVERT_H_
