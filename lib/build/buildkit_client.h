// The BuildService over a buildkitd: Control.Solve with the dockerfile.v0 frontend, run together
// with Control.Status and the session tunnel.
#ifndef KIM_LIB_BUILD_BUILDKIT_CLIENT_H_
#define KIM_LIB_BUILD_BUILDKIT_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kim/build_service.h"
#include "kim/credentials.h"
#include "kim/tls.h"
#include "lib/build/plan_solve.h"

namespace kim::build {

// How to reach buildkitd.
struct BuildKitOptions {
  // "unix:///run/buildkit/buildkitd.sock", "tcp://host:port" or "host:port".
  std::string address;
  // Mutual TLS over TCP (PEM contents); empty = plaintext. Ignored for unix sockets.
  TlsMaterial tls;
  // The name the server certificate must carry, when it differs from the dialled host.
  std::string server_name;
  // Added to "cannot reach" errors, e.g. what to do when a discovered node is not routable.
  std::string unreachable_hint;
  // Answers the daemon's registry credential requests (FROM, --push, cache import/export);
  // null = the user's Docker config alone.
  std::shared_ptr<const CredentialStore> credentials;
  // Kept as long as the service: what the connection runs through (the API-server tunnel).
  std::shared_ptr<void> keep_alive;
};

// Returns a BuildService for the daemon (the connection is made lazily; an unreachable daemon
// shows up as Unavailable from Build). InvalidArgument for an address it cannot use or for a
// certificate without its key (or the reverse).
absl::StatusOr<std::unique_ptr<BuildService>> NewBuildKitService(const BuildKitOptions& options);

// A random BuildKit-style identifier (25 characters of [0-9a-z]).
std::string NewIdentifier();

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_BUILDKIT_CLIENT_H_
