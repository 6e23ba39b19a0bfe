// A Distribution v2 (OCI distribution) registry client for one registry host: resolves and
// fetches manifests, and pushes images whose blobs come from a BlobSource (containerd's content
// store, an OCI layout). Internal to libkim; `ImageService::Push` is built on it.
#ifndef KIM_LIB_IMAGES_REGISTRY_CLIENT_H_
#define KIM_LIB_IMAGES_REGISTRY_CLIENT_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kim/cancellation.h"
#include "kim/credentials.h"
#include "kim/digest.h"
#include "kim/progress.h"
#include "kim/reference.h"
#include "lib/images/descriptor.h"

namespace kim {

class RegistryTransport;

// How to reach one registry.
struct RegistryClientOptions {
  // The registry as it appears in references: "127.0.0.1:5000", "ghcr.io", "docker.io" (Docker
  // Hub, reached at registry-1.docker.io).
  std::string host;
  // Used when the registry asks for them (Basic, or for a token); empty means anonymous.
  RegistryCredentials credentials;
  // Plain HTTP instead of HTTPS. Loopback hosts (127.0.0.0/8, localhost, [::1]) always use it.
  bool insecure = false;
  // How long one request may go without progress before it fails with Unavailable.
  absl::Duration timeout = absl::Seconds(30);
  // Blobs up to this size go up in one PUT; larger ones in PATCHes of this size. Also bounds the
  // memory one upload holds.
  size_t chunk_size = 8 << 20;
  // Blobs uploaded at the same time by PushImage (memory: this times chunk_size at most).
  int max_concurrent_uploads = 3;
};

// Per-push choices.
struct RegistryPushOptions {
  // Repositories of the same registry ("library/app") that may already hold the blobs; a blob
  // the target lacks is mounted from them before it is uploaded. A blob's own
  // "kim.mount-from" annotation (comma-separated repositories) is tried first. Names of other
  // registries are ignored.
  std::vector<std::string> mount_from;
  // Repositories to try for one blob in particular (e.g. from containerd's
  // "containerd.io/distribution.source.<registry>" labels), before `mount_from`. May be empty;
  // called from the upload threads, possibly at the same time for different blobs.
  std::function<std::vector<std::string>(const Descriptor& blob)> mount_from_for;
  // When set and cancelled, uploads stop at the next chunk and no manifest is put.
  Cancellation* cancellation = nullptr;
};

// Talks to one registry. Requests go over one cpprestsdk client whose connections are kept
// alive; challenges are answered once and the scheme (and tokens, per scope, until they expire)
// remembered. Thread-safe.
class RegistryClient {
 public:
  // Prepares a client; sends nothing. InvalidArgument when the host does not make a URL or
  // chunk_size is 0.
  static absl::StatusOr<std::unique_ptr<RegistryClient>> Create(RegistryClientOptions options);

  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // The descriptor (media type, digest, size) of the manifest or index `ref` names, by tag or
  // digest, from a HEAD request (a GET when the registry's HEAD lacks the digest). NotFound
  // `<ref>: not found` when the registry does not have it; Unauthenticated/PermissionDenied/
  // Unavailable as for every call.
  absl::StatusOr<Descriptor> Resolve(const ImageReference& ref);

  // The manifest or index `ref` names, with its descriptor; the bytes are checked against the
  // digest when `ref` has one (DataLoss otherwise). Errors as for Resolve.
  absl::StatusOr<std::pair<Descriptor, std::string>> FetchManifest(const ImageReference& ref);

  // True when the repository of `ref` has blob `digest`.
  absl::StatusOr<bool> BlobExists(const ImageReference& ref, const std::string& digest);

  // Pushes the image `root` (an index or a manifest) read from `source` to `target`'s repository
  // and tags it with `target`'s tag (by digest only when it has none). An index brings the
  // manifests `source` has (others are left out); a manifest its config and layers. Each blob
  // is skipped when present (kExists), else mounted from a candidate repository (kMounted), else
  // uploaded, in one PUT up to chunk_size and in chunk_size PATCHes beyond. Manifests go up after
  // every blob succeeded, children before parents, the root last: a failed push never moves the
  // tag. `progress` (may be empty) gets every blob's states, one call at a time.
  // Returns the root's digest as the registry confirmed it. Errors start with
  // "push to <target name>:" and name the blob: Unavailable when the registry cannot be reached
  // or stops answering, Unauthenticated / PermissionDenied, NotFound / DataLoss from `source`,
  // or Unknown/InvalidArgument with the registry's own error text.
  absl::StatusOr<Digest> PushImage(const ImageReference& target, const Descriptor& root,
                                   BlobSource& source, const ProgressCallback& progress = {},
                                   const RegistryPushOptions& options = {});

  const RegistryClientOptions& options() const { return options_; }

 private:
  RegistryClient(RegistryClientOptions options, std::unique_ptr<RegistryTransport> transport);

  class Push;

  absl::Status CheckDomain(const ImageReference& ref) const;

  const RegistryClientOptions options_;
  std::unique_ptr<RegistryTransport> transport_;
};

// The "Accept" list for manifests: OCI and Docker, indexes and manifests.
const std::string& ManifestAcceptHeader();

}  // namespace kim

#endif  // KIM_LIB_IMAGES_REGISTRY_CLIENT_H_
