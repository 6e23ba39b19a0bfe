// `kim save` and `kim load` on one containerd: images resolved to records and manifests, then
// written as an archive; archives imported under a lease and named once complete. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_ARCHIVE_H_
#define KIM_LIB_IMAGES_CONTAINERD_ARCHIVE_H_

#include <memory>
#include <string>
#include <vector>

#include "kim/image_service.h"
#include "lib/images/containerd_connection.h"

namespace kim {

// ImageService::Save for the containerd behind `connection`; `service` (the same containerd's)
// resolves the arguments.
absl::Status SaveContainerdImages(ImageService& service,
                                  std::shared_ptr<const ContainerdConnection> connection,
                                  const std::vector<std::string>& images,
                                  const SaveOptions& options, const ByteSink& sink);

// ImageService::Load for the containerd behind `connection`; returns once `service` lists the
// loaded images.
absl::StatusOr<std::vector<LoadedImage>> LoadContainerdImages(
    ImageService& service, std::shared_ptr<const ContainerdConnection> connection,
    const ByteSource& source);

// Waits (up to 5 s) until `service` lists `name`: CRI learns of records created through
// containerd's images service from its events, a moment later.
void WaitUntilListed(ImageService& service, const std::string& name);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_ARCHIVE_H_
