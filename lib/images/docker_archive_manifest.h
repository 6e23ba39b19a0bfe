// The manifest.json of a docker-archive (`docker save`, skopeo's docker-archive): which config
// and layer files make each image, and its names. Pure parsing of what the archive says; the
// reader checks it against the files. Internal.
#ifndef KIM_LIB_IMAGES_DOCKER_ARCHIVE_MANIFEST_H_
#define KIM_LIB_IMAGES_DOCKER_ARCHIVE_MANIFEST_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kim {

// One entry of manifest.json, as written; paths are inside the archive.
struct DockerArchiveEntry {
  std::optional<std::string> config;               // "Config", when a string
  std::optional<std::vector<std::string>> layers;  // "Layers", when a list ("" for a non-string)
  std::vector<std::string> repo_tags;              // "RepoTags" as written ("?" for a non-string)
};

// Parses manifest.json. InvalidArgument `the archive's manifest.json is not JSON` / `... is not a
// list`; an entry that is not an object has neither config nor layers.
absl::StatusOr<std::vector<DockerArchiveEntry>> ParseDockerArchiveManifest(std::string_view json);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_DOCKER_ARCHIVE_MANIFEST_H_
