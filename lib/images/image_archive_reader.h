// Importing image archives into containerd as their bytes arrive: docker-archive (Docker's
// classic `docker save`, skopeo's docker-archive, Docker 25's hybrid) and OCI layout tars,
// plain or gzip. Blobs stream into the content store under the caller's lease; what the archive
// says is checked before any image is named. Internal.
#ifndef KIM_LIB_IMAGES_IMAGE_ARCHIVE_READER_H_
#define KIM_LIB_IMAGES_IMAGE_ARCHIVE_READER_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/descriptor.h"

namespace kim {

// One image an archive holds, ready to be named.
struct ImportedImage {
  std::vector<std::string> names;  // fully qualified "name:tag"; empty when unnamed
  Descriptor target;               // manifest or index the names should point at
  std::string config_digest;       // the image ID
};

// Reads one archive. Feed it the archive's bytes in pieces, then call Finish. Not thread-safe.
class ArchiveImporter {
 public:
  // Imports into `connection`'s namespace; every blob is written in `lease`, which keeps them
  // until the caller has named the images (or, on failure, lets containerd collect them).
  ArchiveImporter(std::shared_ptr<const ContainerdConnection> connection, std::string lease);
  ~ArchiveImporter();

  // The next piece of the archive. InvalidArgument for what is not a tar (or gzip of one),
  // DataLoss for content that does not match its digest.
  absl::Status Feed(std::string_view bytes);

  // The archive has ended: checks it (complete, every referenced blob present, layers matching
  // the config's diff IDs where they can be computed), labels manifests for the garbage
  // collector and returns the images.
  absl::StatusOr<std::vector<ImportedImage>> Finish();

 private:
  class Entries;
  std::unique_ptr<Entries> entries_;
};

// The Docker v2 manifest a classic docker-archive implies: its config and layer files as blobs.
std::string DockerManifestFor(const Descriptor& config, const std::vector<Descriptor>& layers);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_IMAGE_ARCHIVE_READER_H_
