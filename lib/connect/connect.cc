// Connect: chooses and builds the backend clients for the CLI's options.
//
// Backends not built yet in this version of libkim say so with an Unimplemented status naming
// what is missing, so that every command fails plainly.
#include "kim/connect.h"

#include "absl/status/status.h"
#include "lib/images/containerd_image_service.h"
#include "lib/connect/connect_agent.h"

namespace kim {

absl::StatusOr<std::unique_ptr<ImageService>> ConnectImageService(const ConnectOptions& options) {
  if (!options.containerd_socket.empty()) {
    return NewContainerdImageService(ContainerdOptions{.socket = options.containerd_socket});
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
