// What every kim-agent service does with a call: the audit line of a call that changes images,
// and the agent's own answer to a failed one. Shared by the Images and Transfer services.
// Internal.
#ifndef KIM_LIB_IMAGES_AGENT_CALLS_H_
#define KIM_LIB_IMAGES_AGENT_CALLS_H_

#include <string_view>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace kim {

// Logs one call that changes the node's images: what, on what, and who (the subject of the
// client certificate, as gRPC's TLS verified it). One write per line, so lines never mix.
void Audit(grpc::ServerContext* context, std::string_view call, std::string_view what);

// The agent's own answer to a call that failed: marked (trailing metadata kAgentAnswerKey) so
// that the client tells it from a connection that broke, which gRPC reports with the same codes.
grpc::Status Answer(grpc::ServerContext* context, const absl::Status& status);

// The answer of an agent started without an image backend.
grpc::Status NoBackend();

}  // namespace kim

#endif  // KIM_LIB_IMAGES_AGENT_CALLS_H_
