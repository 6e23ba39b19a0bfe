// docker-archive manifest.json parsing.
#include "lib/images/docker_archive_manifest.h"

#include <cpprest/json.h>

namespace kim {

absl::StatusOr<std::vector<DockerArchiveEntry>> ParseDockerArchiveManifest(std::string_view json) {
  using web::json::value;
  std::error_code error;
  const value manifest = value::parse(std::string(json), error);
  if (error) return absl::InvalidArgumentError("the archive's manifest.json is not JSON");
  if (!manifest.is_array()) return absl::InvalidArgumentError("the archive's manifest.json is not a list");
  std::vector<DockerArchiveEntry> entries;
  for (const value& item : manifest.as_array()) {
    DockerArchiveEntry& entry = entries.emplace_back();
    if (!item.is_object()) continue;
    if (item.has_string_field("Config")) entry.config = item.at("Config").as_string();
    if (item.has_array_field("Layers")) {
      entry.layers.emplace();
      for (const value& layer : item.at("Layers").as_array()) {
        entry.layers->push_back(layer.is_string() ? layer.as_string() : "");
      }
    }
    if (item.has_array_field("RepoTags")) {
      for (const value& tag : item.at("RepoTags").as_array()) {
        entry.repo_tags.push_back(tag.is_string() ? tag.as_string() : "?");
      }
    }
  }
  return entries;
}

}  // namespace kim
