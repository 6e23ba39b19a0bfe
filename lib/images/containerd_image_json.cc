// Parsing image configs, indexes and manifests with cpprestsdk's JSON.
#include "lib/images/containerd_image_json.h"

#include <cpprest/json.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "kim/digest.h"

namespace kim {
namespace {

using web::json::value;

std::optional<value> ParseObject(std::string_view text) {
  std::error_code error;
  value parsed = value::parse(std::string(text), error);
  if (error || !parsed.is_object()) return std::nullopt;
  return parsed;
}

std::string StringField(const value& object, const char* name) {
  if (!object.has_field(name) || !object.at(name).is_string()) return "";
  return object.at(name).as_string();
}

absl::StatusOr<Descriptor> ParseDescriptor(const value& entry, const char* what) {
  if (!entry.is_object() || !entry.has_field("digest") || !entry.at("digest").is_string() ||
      !entry.has_field("size") || !entry.at("size").is_integer()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed ", what, " descriptor"));
  }
  Descriptor descriptor;
  descriptor.media_type = StringField(entry, "mediaType");
  descriptor.digest = entry.at("digest").as_string();
  // The digest names a blob in the content store (and in labels): it must be one.
  if (absl::Status valid = Digest::Validate(descriptor.digest); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed ", what, " descriptor: ", valid.message()));
  }
  if (!entry.at("size").as_number().is_int64() || entry.at("size").as_number().to_int64() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("malformed ", what, " descriptor: bad size"));
  }
  descriptor.size = entry.at("size").as_number().to_int64();
  if (entry.has_field("platform") && entry.at("platform").is_object()) {
    const value& platform = entry.at("platform");
    descriptor.platform = Platform{StringField(platform, "os"),
                                   StringField(platform, "architecture"),
                                   StringField(platform, "variant")};
  }
  if (entry.has_field("annotations") && entry.at("annotations").is_object()) {
    for (const auto& [key, annotation] : entry.at("annotations").as_object()) {
      if (annotation.is_string()) descriptor.annotations[key] = annotation.as_string();
    }
  }
  return descriptor;
}

}  // namespace

absl::Time ImageConfigCreated(std::string_view config_json) {
  const auto config = ParseObject(config_json);
  if (!config) return absl::InfinitePast();
  const std::string created = StringField(*config, "created");
  absl::Time time;
  std::string error;
  if (created.empty() || !absl::ParseTime(absl::RFC3339_full, created, &time, &error)) {
    return absl::InfinitePast();
  }
  return time;
}

absl::StatusOr<std::vector<Descriptor>> IndexManifests(std::string_view json) {
  const auto index = ParseObject(json);
  if (!index || !index->has_field("manifests") || !index->at("manifests").is_array()) {
    return absl::InvalidArgumentError("not an image index: no \"manifests\" array");
  }
  std::vector<Descriptor> manifests;
  for (const value& entry : index->at("manifests").as_array()) {
    auto descriptor = ParseDescriptor(entry, "index entry");
    if (!descriptor.ok()) return descriptor.status();
    manifests.push_back(std::move(*descriptor));
  }
  return manifests;
}

absl::StatusOr<std::vector<Descriptor>> ManifestBlobs(std::string_view json) {
  const auto manifest = ParseObject(json);
  if (!manifest || !manifest->has_field("config") || !manifest->has_field("layers") ||
      !manifest->at("layers").is_array()) {
    return absl::InvalidArgumentError("not an image manifest: no \"config\" and \"layers\"");
  }
  std::vector<Descriptor> blobs;
  auto config = ParseDescriptor(manifest->at("config"), "config");
  if (!config.ok()) return config.status();
  blobs.push_back(std::move(*config));
  for (const value& entry : manifest->at("layers").as_array()) {
    auto layer = ParseDescriptor(entry, "layer");
    if (!layer.ok()) return layer.status();
    blobs.push_back(std::move(*layer));
  }
  return blobs;
}

}  // namespace kim
