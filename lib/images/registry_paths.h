// The URL paths and message pieces of Distribution v2 requests, shared by RegistryClient's reads
// (registry_client.cc) and its pushes (registry_push.cc). Internal.
#ifndef KIM_LIB_IMAGES_REGISTRY_PATHS_H_
#define KIM_LIB_IMAGES_REGISTRY_PATHS_H_

#include <string>

#include "absl/status/status.h"
#include "kim/reference.h"

namespace kim::registry {

// "/v2/REPOSITORY/manifests/REFERENCE" (a tag or digest).
std::string ManifestPath(const std::string& repository, const std::string& reference);

// "/v2/REPOSITORY/blobs/DIGEST".
std::string BlobPath(const std::string& repository, const std::string& digest);

// "/v2/REPOSITORY/blobs/uploads/", where an upload starts.
std::string UploadsPath(const std::string& repository);

// `url` with one more query parameter (the value URL-encoded).
std::string WithQuery(const std::string& url, const std::string& key, const std::string& value);

// The tag or digest a manifest request names ("latest" when the reference has neither).
std::string ManifestReference(const ImageReference& ref);

// "sha256:0123456789ab" for messages.
std::string ShortDigest(const std::string& digest);

// `status` with "PREFIX: " before its message.
absl::Status WithPrefix(const absl::Status& status, const std::string& prefix);

}  // namespace kim::registry

#endif  // KIM_LIB_IMAGES_REGISTRY_PATHS_H_
