// The blobs a CRI pull will fetch, asked from the registry beforehand so that the pull's
// progress reports exactly those. Internal.
#ifndef KIM_LIB_IMAGES_PULL_BLOBS_H_
#define KIM_LIB_IMAGES_PULL_BLOBS_H_

#include <vector>

#include "kim/credentials.h"
#include "kim/reference.h"
#include "lib/images/descriptor.h"

namespace kim {

// The blobs (config and layers) a pull of `reference` will fetch on this node, asked from the
// registry before CRI pulls, so that progress reports exactly this pull's blobs. Empty when the
// registry cannot be asked directly (then progress falls back to discovering new ingests).
std::vector<Descriptor> PullBlobs(const ImageReference& reference,
                                  const RegistryCredentials& credentials);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_PULL_BLOBS_H_
