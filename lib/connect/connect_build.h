// Connecting to an explicitly given buildkitd (--buildkit-addr with --tlscacert/--tlscert/--tlskey).
#ifndef KIM_LIB_CONNECT_CONNECT_BUILD_H_
#define KIM_LIB_CONNECT_CONNECT_BUILD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kim/connect.h"
#include "kim/credentials.h"

namespace kim {

// Reads the TLS files the options name and returns a BuildService for options.buildkit_addr
// (unix:///path, tcp://host:port). InvalidArgument names a TLS file that cannot be read or an
// unusable address.
// `unreachable_hint` is added to "cannot reach" errors; `credentials` answer the build's
// registry logins (null: the user's Docker config alone).
absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuild(
    const ConnectOptions& options, const std::string& unreachable_hint = "",
    std::shared_ptr<const CredentialStore> credentials = nullptr);

}  // namespace kim

#endif  // KIM_LIB_CONNECT_CONNECT_BUILD_H_
