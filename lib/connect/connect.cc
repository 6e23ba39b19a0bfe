// Connect: chooses and builds the backend clients for the CLI's options.
//
// None of the backends is implemented in this version of libkim; each function says so with
// an Unimplemented status naming what is missing, so that every command fails plainly.
#include "kim/connect.h"

#include "absl/status/status.h"
#include "lib/connect/connect_agent.h"

namespace kim {

absl::StatusOr<std::unique_ptr<ImageService>> ConnectImageService(const ConnectOptions& options) {
  if (!options.containerd_socket.empty()) {
    return absl::UnimplementedError(
        "the containerd image service (--containerd-socket) is not built yet in this version of kim");
  }
  if (!options.agent_addr.empty()) return ConnectAgent(options);
  return absl::UnimplementedError(
      "finding the builder through Kubernetes is not built yet in this version of kim; "
      "image commands need a backend that is not available");
}

absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuildService(const ConnectOptions& options) {
  if (!options.buildkit_addr.empty()) {
    return absl::UnimplementedError(
        "the BuildKit client (--buildkit-addr) is not built yet in this version of kim");
  }
  return absl::UnimplementedError(
      "building through the cluster's builder is not built yet in this version of kim");
}

absl::StatusOr<std::unique_ptr<Installer>> NewInstaller(const ConnectOptions&) {
  return absl::UnimplementedError(
      "the Kubernetes installer is not built yet in this version of kim");
}

}  // namespace kim
