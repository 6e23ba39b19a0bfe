// Media type predicates.
#include "lib/images/descriptor.h"

namespace kim {

bool IsIndex(std::string_view media_type) {
  return media_type == kOciIndex || media_type == kDockerManifestList;
}

bool IsManifest(std::string_view media_type) {
  return media_type == kOciManifest || media_type == kDockerManifest;
}

}  // namespace kim
