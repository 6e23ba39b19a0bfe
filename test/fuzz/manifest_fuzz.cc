// Fuzz target for the image documents a registry, an archive or a layout hands kim: manifests,
// indexes and manifest lists (and the config's creation date). Beyond "does not crash": what
// parses has well-formed descriptors, and the readers of the same bytes agree with each other.
#include <string>

#include "absl/status/status.h"
#include "kim/digest.h"
#include "lib/images/containerd_image_json.h"
#include "lib/images/descriptor.h"
#include "lib/images/registry_manifest.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

namespace {

void CheckDescriptor(const kim::Descriptor& descriptor) {
  Require(kim::Digest::Validate(descriptor.digest).ok(), "descriptor digests are valid");
  Require(descriptor.size >= 0, "descriptor sizes are not negative");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = kim::fuzz::AsText(data, size);
  const std::string media_type = kim::ManifestMediaType(bytes);
  for (std::string_view type : {std::string_view(), std::string_view(media_type),
                                std::string_view(kim::kOciIndex), std::string_view(kim::kDockerManifest)}) {
    auto references = kim::ParseManifestReferences(type, bytes);
    if (!references.ok()) {
      Require(absl::IsInvalidArgument(references.status()), "errors are InvalidArgument");
      continue;
    }
    for (const auto& descriptor : references->manifests) CheckDescriptor(descriptor);
    for (const auto& descriptor : references->layers) CheckDescriptor(descriptor);
    if (references->config) CheckDescriptor(*references->config);
  }
  auto index = kim::ParseIndexDescriptors(bytes);
  if (index.ok()) {
    for (const auto& descriptor : *index) CheckDescriptor(descriptor);
  }
  auto manifests = kim::IndexManifests(bytes);
  if (manifests.ok()) {
    for (const auto& descriptor : *manifests) CheckDescriptor(descriptor);
  }
  auto blobs = kim::ManifestBlobs(bytes);
  if (blobs.ok()) {
    Require(!blobs->empty(), "a manifest has at least its config");
    for (const auto& descriptor : *blobs) CheckDescriptor(descriptor);
  }
  (void)kim::ImageConfigCreated(bytes);
  return 0;
}
