// Content descriptors and blob sources: how the registry client reads the blobs of an image
// it pushes, whoever stores them (containerd's content store, an OCI layout on disk). Internal.
#ifndef KIM_LIB_IMAGES_DESCRIPTOR_H_
#define KIM_LIB_IMAGES_DESCRIPTOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kim/platform.h"

namespace kim {

// OCI and Docker media types kim handles.
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciConfig[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kDockerManifestList[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerConfig[] = "application/vnd.docker.container.image.v1+json";

// An OCI content descriptor: what a blob is, by digest and size.
struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:..."
  int64_t size = 0;
  std::optional<Platform> platform;  // set for the entries of an index
  std::map<std::string, std::string> annotations;
};

// True for index / manifest-list media types.
bool IsIndex(std::string_view media_type);
// True for single-platform manifest media types.
bool IsManifest(std::string_view media_type);

// Where the blobs of an image can be read from. Implementations must be thread-safe.
class BlobSource {
 public:
  virtual ~BlobSource() = default;

  // Returns the whole blob; for small blobs (manifests, indexes, configs). NotFound when absent.
  virtual absl::StatusOr<std::string> ReadAll(const Descriptor& blob) = 0;

  // Streams the blob to `sink` in chunks of at most `chunk_size` bytes, in order; stops at the
  // first error `sink` returns and returns it. NotFound when absent.
  virtual absl::Status ReadChunks(const Descriptor& blob, size_t chunk_size,
                                  const std::function<absl::Status(std::string_view)>& sink) = 0;
};

}  // namespace kim

#endif  // KIM_LIB_IMAGES_DESCRIPTOR_H_
