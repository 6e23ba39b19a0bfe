// LazyImageService: an ImageService that creates its backend on first use and, while creating
// it fails (containerd not up yet), answers every call with that failure and tries again on the
// next call. kim-agent uses it so that it starts, and recovers, independently of containerd.
#ifndef KIM_LIB_IMAGES_LAZY_IMAGE_SERVICE_H_
#define KIM_LIB_IMAGES_LAZY_IMAGE_SERVICE_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "kim/image_service.h"

namespace kim {

// Makes the backend; called until it succeeds.
using ImageServiceFactory = std::function<absl::StatusOr<std::unique_ptr<ImageService>>()>;

// Returns a thread-safe ImageService over the backend `factory` makes.
std::unique_ptr<ImageService> NewLazyImageService(ImageServiceFactory factory);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_LAZY_IMAGE_SERVICE_H_
