// Reading image manifests and indexes as JSON: the descriptors one refers to, and the media type
// of manifest bytes. Shared by the registry client and the OCI layout source. Internal.
#ifndef KIM_LIB_IMAGES_REGISTRY_MANIFEST_H_
#define KIM_LIB_IMAGES_REGISTRY_MANIFEST_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/images/descriptor.h"

namespace kim {

// The annotation that names the repository (on the same registry, "library/app" or
// "host/library/app") a blob can be mounted from when pushing.
inline constexpr char kMountFromAnnotation[] = "kim.mount-from";
// The OCI annotation that holds a manifest's tag in an image layout's index.json.
inline constexpr char kRefNameAnnotation[] = "org.opencontainers.image.ref.name";

// What a manifest or an index refers to.
struct ManifestReferences {
  std::vector<Descriptor> manifests;  // index: its entries, in order
  std::optional<Descriptor> config;   // manifest: its config
  std::vector<Descriptor> layers;     // manifest: its layers, in order
};

// Parses the references of manifest bytes of `media_type` (an index or a manifest type; when
// empty, taken from the bytes' own "mediaType", or guessed from "manifests"/"layers").
// Returns InvalidArgument for bad JSON, a missing or malformed descriptor field, or an
// unsupported media type (schema 1 manifests).
absl::StatusOr<ManifestReferences> ParseManifestReferences(std::string_view media_type,
                                                           std::string_view bytes);

// The media type manifest bytes declare ("mediaType"), or, without one, what their shape says
// (kOciIndex with "manifests", kOciManifest with "layers"); "" when neither.
std::string ManifestMediaType(std::string_view bytes);

// The descriptors of an OCI image layout's index.json (same format as an OCI index).
absl::StatusOr<std::vector<Descriptor>> ParseIndexDescriptors(std::string_view bytes);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_REGISTRY_MANIFEST_H_
