// `kim inspect`: the object `docker image inspect` prints for an image, built from its config
// blob, and the indented array of them.
#ifndef KIM_APPS_KIM_OUTPUT_IMAGE_INSPECT_H_
#define KIM_APPS_KIM_OUTPUT_IMAGE_INSPECT_H_

#include <string>
#include <vector>

#include <cpprest/json.h>

#include "absl/status/statusor.h"
#include "kim/image_service.h"

namespace kim::cli {

// Docker's ImageInspect for `details`, keys in Docker's order: Id, RepoTags and RepoDigests
// (familiar names, as Docker shows them), Parent "", Comment, Created (RFC 3339 with
// nanoseconds, UTC), DockerVersion, Author, Config (the config's "config" object, Docker's key
// order, only the keys it has), Architecture, Variant (left out when empty), Os, Size (as
// `kim images` shows it), RootFS {Type, Layers = diff IDs} and Metadata {LastTagTime, Go's zero
// time: containerd does not record it}. InvalidArgument when the config is not a JSON object.
absl::StatusOr<web::json::value> InspectObject(const ImageDetails& details);

// The objects as one JSON array, indented with four spaces and HTML characters escaped
// (\u0026 for &), as `docker image inspect` prints it; "[]" for none. Ends with a newline.
std::string InspectArray(const std::vector<web::json::value>& objects);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_IMAGE_INSPECT_H_
