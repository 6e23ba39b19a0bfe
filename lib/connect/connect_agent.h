// Connecting to an explicitly given kim-agent (--agent-addr with --tlscacert/--tlscert/--tlskey).
#ifndef KIM_LIB_CONNECT_CONNECT_AGENT_H_
#define KIM_LIB_CONNECT_CONNECT_AGENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "kim/connect.h"

namespace kim {

// Reads the TLS files the options name and returns a client of the agent at options.agent_addr.
// InvalidArgument names a TLS file that cannot be read.
absl::StatusOr<std::unique_ptr<ImageService>> ConnectAgent(const ConnectOptions& options);

}  // namespace kim

#endif  // KIM_LIB_CONNECT_CONNECT_AGENT_H_
