// Connecting to an explicitly given buildkitd (--buildkit-addr with --tlscacert/--tlscert/--tlskey).
#ifndef KIM_LIB_CONNECT_CONNECT_BUILD_H_
#define KIM_LIB_CONNECT_CONNECT_BUILD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kim/connect.h"

namespace kim {

// Reads the TLS files the options name and returns a BuildService for options.buildkit_addr
// (unix:///path, tcp://host:port). InvalidArgument names a TLS file that cannot be read or an
// unusable address.
// `unreachable_hint` is added to "cannot reach" errors.
absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuild(const ConnectOptions& options,
                                                           const std::string& unreachable_hint = "");

}  // namespace kim

#endif  // KIM_LIB_CONNECT_CONNECT_BUILD_H_
