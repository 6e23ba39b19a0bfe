// ConnectContainerdImageService: the containerd ImageService, made now or on first use.
#include "kim/containerd.h"

#include "lib/images/containerd_image_service.h"
#include "lib/images/lazy_image_service.h"

namespace kim {

absl::StatusOr<std::unique_ptr<ImageService>> ConnectContainerdImageService(
    const ContainerdImageOptions& options) {
  const ContainerdOptions containerd{.socket = options.socket,
                                     .namespace_name = options.namespace_name,
                                     .timeout = options.timeout};
  if (!options.connect_on_first_use) return NewContainerdImageService(containerd);
  if (options.socket.empty()) return absl::InvalidArgumentError("no containerd socket given");
  return NewLazyImageService([containerd] { return NewContainerdImageService(containerd); });
}

}  // namespace kim
