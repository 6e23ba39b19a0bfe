// Writing image archives: a docker-archive that is also an OCI image layout (what `docker save`
// writes since Docker 25), or an OCI layout alone, streamed blob by blob. Internal.
#ifndef KIM_LIB_IMAGES_IMAGE_ARCHIVE_WRITER_H_
#define KIM_LIB_IMAGES_IMAGE_ARCHIVE_WRITER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "kim/image_service.h"
#include "lib/images/descriptor.h"

namespace kim {

// One image of an archive: its names and its single-platform manifest.
struct ArchiveImage {
  std::vector<std::string> names;  // fully qualified "name:tag"; empty for an unnamed image
  Descriptor manifest;
};

// Writes `images` as one tar to `sink`: `oci-layout`, `index.json` (an entry per name, with
// containerd's and OCI's name annotations) and, for kDocker, `manifest.json` and `repositories`
// first, so a streaming reader knows what follows; then each blob once under blobs/sha256/,
// manifests and configs before layers. Blobs are read from `blobs` and copied as they are
// (layers stay compressed). DataLoss when a blob is not the size its descriptor says.
absl::Status WriteImageArchive(const std::vector<ArchiveImage>& images, ArchiveFormat format,
                               BlobSource& blobs, const ByteSink& sink);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_IMAGE_ARCHIVE_WRITER_H_
