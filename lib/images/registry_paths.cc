// Distribution v2 paths and message pieces.
#include "lib/images/registry_paths.h"

#include <cpprest/uri.h>

#include "absl/strings/str_cat.h"

namespace kim::registry {

std::string ManifestPath(const std::string& repository, const std::string& reference) {
  return absl::StrCat("/v2/", repository, "/manifests/", reference);
}

std::string BlobPath(const std::string& repository, const std::string& digest) {
  return absl::StrCat("/v2/", repository, "/blobs/", digest);
}

std::string UploadsPath(const std::string& repository) {
  return absl::StrCat("/v2/", repository, "/blobs/uploads/");
}

// `url` with one more query parameter.
std::string WithQuery(const std::string& url, const std::string& key, const std::string& value) {
  return absl::StrCat(url, url.find('?') == std::string::npos ? "?" : "&", key, "=",
                      web::uri::encode_data_string(value));
}

// "sha256:0123456789ab" for messages.
std::string ShortDigest(const std::string& digest) {
  const size_t colon = digest.find(':');
  return colon == std::string::npos ? digest : digest.substr(0, colon + 13);
}

absl::Status WithPrefix(const absl::Status& status, const std::string& prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, ": ", status.message()));
}

// The tag or digest a manifest request names.
std::string ManifestReference(const ImageReference& ref) {
  if (ref.HasDigest()) return ref.Digest()->String();
  return ref.HasTag() ? ref.Tag() : std::string(kDefaultTag);
}

}  // namespace kim::registry
