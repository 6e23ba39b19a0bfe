// Manifest and index JSON → descriptors.
#include "lib/images/registry_manifest.h"

#include <cpprest/json.h>

#include "absl/strings/str_cat.h"
#include "kim/digest.h"

namespace kim {
namespace {

using web::json::value;

absl::StatusOr<value> ParseJson(std::string_view bytes) {
  try {
    value json = value::parse(std::string(bytes));
    if (!json.is_object()) return absl::InvalidArgumentError("manifest is not a JSON object");
    return json;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("manifest is not JSON: ", e.what()));
  }
}

absl::StatusOr<Descriptor> DescriptorFromJson(const value& json, std::string_view where) {
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad descriptor in ", std::string(where), ": ", std::string(what)));
  };
  if (!json.is_object()) return bad("not an object");
  Descriptor descriptor;
  if (!json.has_string_field("digest")) return bad("no digest");
  descriptor.digest = json.at("digest").as_string();
  if (auto valid = Digest::Validate(descriptor.digest); !valid.ok()) {
    return bad(absl::StrCat("digest \"", descriptor.digest, "\": ", valid.message()));
  }
  if (!json.has_field("size") || !json.at("size").is_integer() ||
      json.at("size").as_number().to_int64() < 0) {
    return bad(absl::StrCat("no valid size for ", descriptor.digest));
  }
  descriptor.size = json.at("size").as_number().to_int64();
  if (json.has_string_field("mediaType")) descriptor.media_type = json.at("mediaType").as_string();
  if (json.has_object_field("platform")) {
    const auto& p = json.at("platform");
    Platform platform;
    if (p.has_string_field("os")) platform.os = p.at("os").as_string();
    if (p.has_string_field("architecture")) platform.architecture = p.at("architecture").as_string();
    if (p.has_string_field("variant")) platform.variant = p.at("variant").as_string();
    descriptor.platform = platform;
  }
  if (json.has_object_field("annotations")) {
    for (const auto& [key, annotation] : json.at("annotations").as_object()) {
      if (annotation.is_string()) descriptor.annotations[key] = annotation.as_string();
    }
  }
  return descriptor;
}

absl::StatusOr<std::vector<Descriptor>> DescriptorList(const value& json, const char* field) {
  std::vector<Descriptor> list;
  if (!json.has_field(field)) return list;
  if (!json.at(field).is_array()) {
    return absl::InvalidArgumentError(absl::StrCat("manifest field \"", field, "\" is no list"));
  }
  for (const auto& entry : json.at(field).as_array()) {
    auto descriptor = DescriptorFromJson(entry, field);
    if (!descriptor.ok()) return descriptor.status();
    list.push_back(*std::move(descriptor));
  }
  return list;
}

std::string ShapeMediaType(const value& json) {
  if (json.has_string_field("mediaType")) return json.at("mediaType").as_string();
  if (json.has_field("manifests")) return kOciIndex;
  if (json.has_field("layers")) return kOciManifest;
  return "";
}

}  // namespace

absl::StatusOr<ManifestReferences> ParseManifestReferences(std::string_view media_type,
                                                           std::string_view bytes) {
  auto json = ParseJson(bytes);
  if (!json.ok()) return json.status();
  std::string type(media_type);
  if (type.empty()) type = ShapeMediaType(*json);
  ManifestReferences references;
  if (IsIndex(type)) {
    auto manifests = DescriptorList(*json, "manifests");
    if (!manifests.ok()) return manifests.status();
    references.manifests = *std::move(manifests);
    return references;
  }
  if (IsManifest(type)) {
    if (!json->has_object_field("config")) {
      return absl::InvalidArgumentError("manifest has no config");
    }
    auto config = DescriptorFromJson(json->at("config"), "config");
    if (!config.ok()) return config.status();
    references.config = *std::move(config);
    auto layers = DescriptorList(*json, "layers");
    if (!layers.ok()) return layers.status();
    references.layers = *std::move(layers);
    return references;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported manifest media type \"", type, "\""));
}

std::string ManifestMediaType(std::string_view bytes) {
  auto json = ParseJson(bytes);
  return json.ok() ? ShapeMediaType(*json) : "";
}

absl::StatusOr<std::vector<Descriptor>> ParseIndexDescriptors(std::string_view bytes) {
  auto json = ParseJson(bytes);
  if (!json.ok()) return json.status();
  return DescriptorList(*json, "manifests");
}

}  // namespace kim
