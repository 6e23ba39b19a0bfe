// ImageService: the images of one containerd (namespace k8s.io), listed, pulled, pushed, tagged
// and removed with the Docker CLI's semantics.
#ifndef KIM_IMAGE_SERVICE_H_
#define KIM_IMAGE_SERVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kim/cancellation.h"
#include "kim/credentials.h"
#include "kim/distribution.h"
#include "kim/progress.h"
#include "kim/version.h"

namespace kim {

// One image as `kim images` shows it.
struct Image {
  std::string id;                         // config digest, "sha256:..."
  std::vector<std::string> repo_tags;     // fully qualified "name:tag"
  std::vector<std::string> repo_digests;  // fully qualified "name@sha256:..."
  uint64_t size = 0;                      // bytes, as CRI reports it
  absl::Time created = absl::InfinitePast();  // InfinitePast when the config has no date
};

// --- inspect / history (ImageService::Inspect) ---------------------------------------------

// One layer of an image, in manifest order (base layer first).
struct LayerDetails {
  std::string digest;        // the layer blob's digest, "sha256:..."
  std::string media_type;    // the layer blob's media type
  int64_t size = 0;          // the blob's (compressed) size in bytes, from the manifest
  std::string diff_id;       // the uncompressed layer's digest, from the config's rootfs
  int64_t unpacked_size = -1;  // bytes the unpacked layer takes on the node; -1 when unknown
};

// Everything `kim inspect` and `kim history` show of one image: the image as List shows it,
// its config blob verbatim, and the single-platform manifest that was chosen.
struct ImageDetails {
  Image image;
  std::string config_json;          // the config blob, byte for byte
  std::string manifest_digest;      // the platform manifest (the index's entry for the node)
  std::string manifest_media_type;  // its media type
  std::string index_digest;         // the index the names point at; empty when none
  std::vector<LayerDetails> layers;
};
// --- end inspect / history -------------------------------------------------------------------

// Options for ImageService::List.
struct ListOptions {
  // REPOSITORY[:TAG] patterns (`docker images` style); empty lists every image.
  std::vector<std::string> filters;
};

// Options for ImageService::Pull.
struct PullOptions {
  std::string platform;             // "os/arch[/variant]"; empty = the node's platform
  RegistryCredentials credentials;  // empty = anonymous
  ProgressCallback progress;        // may be empty
  // When set and cancelled, the pull stops and Pull returns Cancelled, leaving no image behind.
  Cancellation* cancellation = nullptr;
};

// Options for ImageService::Push.
struct PushOptions {
  RegistryCredentials credentials;  // empty = anonymous
  bool insecure = false;            // unverified HTTPS or plain HTTP (loopback always is)
  ProgressCallback progress;        // may be empty
  // When set and cancelled, the push stops between chunks and Push returns Cancelled; the
  // registry gets no manifest.
  Cancellation* cancellation = nullptr;
  // Layers stored uncompressed (kim build's default) are gzipped for the registry, as Docker
  // pushes them; false sends every layer as stored.
  bool gzip_uncompressed_layers = true;
  int compression_level = -1;  // gzip's level (0-9); -1 = zlib's default (6)
};

// The archive formats of ImageService::Save.
enum class ArchiveFormat {
  // What `docker save` writes since Docker 25: a docker-archive (manifest.json, repositories)
  // that is also an OCI image layout, so `docker load`, skopeo and `ctr import` all read it.
  kDocker,
  // An OCI image layout only (oci-layout, index.json, blobs/).
  kOci,
};

// Options for ImageService::Save.
struct SaveOptions {
  ArchiveFormat format = ArchiveFormat::kDocker;
};

// Receives an archive piece by piece, in order; an error stops the save and is returned by it.
using ByteSink = std::function<absl::Status(std::string_view)>;

// Hands out an archive piece by piece: the next piece, an empty string at the end, or an error
// that stops the load.
using ByteSource = std::function<absl::StatusOr<std::string>()>;

// One image ImageService::Load created or replaced.
struct LoadedImage {
  std::string name;  // fully qualified "name:tag"; empty when the archive gave it no name
  std::string id;    // config digest, "sha256:..."
};

// What ImageService::Remove did for one argument, in `docker rmi`'s terms.
struct RemoveResult {
  std::string image;                  // the argument as given
  std::vector<std::string> untagged;  // names removed ("Untagged: ...")
  std::vector<std::string> deleted;   // image IDs deleted ("Deleted: ...")
  absl::Status status;                // OK, or why this argument failed
};

// Options for ImageService::Prune (`docker image prune`).
struct PruneOptions {
  // Every image no container uses, not only the dangling ones. Default: dangling only.
  bool all = false;
  // Docker's filters, all of which an image must match: "until=DURATION|TIMESTAMP" (created
  // before), "label=KEY[=VALUE]" and "label!=KEY[=VALUE]" (config labels). Default: none.
  std::vector<std::string> filters;
  // Only report what would be removed (`kim system df` uses this). Default: remove.
  bool dry_run = false;
};

// One image ImageService::Prune removed (or, for a dry run, would remove).
struct PrunedImage {
  std::string id;                     // "sha256:..." ("deleted: ...")
  std::vector<std::string> untagged;  // its names removed before it ("untagged: ..."), qualified
  uint64_t size = 0;                  // its size as List reports it
  bool deleted = true;                // false when only names went (it was tagged meanwhile)
};

// What ImageService::Prune removed, in `docker image prune`'s terms.
struct PruneReport {
  std::vector<PrunedImage> images;    // in the order they went
  uint64_t reclaimed = 0;             // sum of the deleted images' sizes, in bytes
  // Images a container uses, by ID, with how many containers use each; never pruned.
  std::map<std::string, int> containers;
  // Images left alone because they changed meanwhile (the rest was still pruned).
  std::vector<std::string> warnings;
};

// The images of one containerd. Implementations: in-process over a containerd socket, and a
// client of kim-agent. Thread-safe: one instance may serve concurrent calls.
//
// Image arguments are references in Docker's grammar, full image IDs, or unambiguous ID
// prefixes. Unknown images give NotFound("image \"x\": not found"); malformed references give
// InvalidArgument; unreachable backends give Unavailable with a hint.
class ImageService {
 public:
  virtual ~ImageService() = default;

  // Returns every image matching `options.filters`.
  virtual absl::StatusOr<std::vector<Image>> List(const ListOptions& options) = 0;

  // Returns the one image `image` names.
  virtual absl::StatusOr<Image> Status(const std::string& image) = 0;

  // Returns the image `image` names with its config, manifest and layers, for `kim inspect`
  // and `kim history`. For a multi-platform image, the entry for the node's platform. NotFound
  // as for Status; DataLoss/FailedPrecondition when its manifest or config is missing or broken.
  virtual absl::StatusOr<ImageDetails> Inspect(const std::string& image) = 0;

  // Fetches `image` from its registry and returns it once it is ready for the kubelet.
  virtual absl::StatusOr<Image> Pull(const std::string& image, const PullOptions& options) = 0;

  // Uploads `image` to the registry its name points at; returns the pushed manifest digest.
  virtual absl::StatusOr<std::string> Push(const std::string& image,
                                           const PushOptions& options) = 0;

  // Writes `images` (references, IDs or ID prefixes) as one tar archive to `sink`, streamed
  // from the content store: blobs shared by several images are written once. Images saved by
  // reference keep that name; by ID, every tag they have. Multi-platform images are saved for
  // the node's platform. Nothing is written when an image is missing (NotFound first).
  virtual absl::Status Save(const std::vector<std::string>& images, const SaveOptions& options,
                            const ByteSink& sink) = 0;

  // Reads a docker-archive or OCI layout tar, plain or gzip, from `source` and imports its
  // images with the archive's names. Every blob is checked against its digest and images are
  // named only once all of their content is in; on any error nothing of the archive is left.
  virtual absl::StatusOr<std::vector<LoadedImage>> Load(const ByteSource& source) = 0;

  // Gives `source` each of `targets` as a further name, replacing whatever held those names.
  virtual absl::StatusOr<Image> Tag(const std::string& source,
                                    const std::vector<std::string>& targets) = 0;

  // Untags or deletes each of `images` like `docker rmi`; one result per argument, in order.
  // `force` deletes an image by ID even when several repositories name it.
  virtual std::vector<RemoveResult> Remove(const std::vector<std::string>& images,
                                           bool force) = 0;

  // Removes the dangling images (no repo tag), or with `options.all` every image no container
  // uses, that match `options.filters`; returns what went. InvalidArgument for a bad filter.
  // An image a container uses (or that changes meanwhile) is never removed.
  virtual absl::StatusOr<PruneReport> Prune(const PruneOptions& options) = 0;

  // Asks the backend what it is: kim-agent with the containerd it serves, or containerd itself.
  // Unavailable (with the same hint as every call) when it cannot be reached.
  virtual absl::StatusOr<DaemonVersion> Version() = 0;

  // Copies `images` (references/IDs as elsewhere) from this node to every target, agent to
  // agent, in parallel: each node receives only the blobs it lacks, checks them by digest and
  // names the images only once all is in. One result per target, in order; an error only when
  // the images cannot be resolved here. Default implementation: Unimplemented.
  virtual absl::StatusOr<std::vector<NodeDistribution>> Distribute(
      const std::vector<std::string>& images, const DistributeOptions& options) {
    (void)images;
    (void)options;
    return absl::UnimplementedError("this image backend cannot distribute images to other nodes");
  }

  // Sets (or with pinned=false removes) the label io.cri-containerd.pinned=pinned on the
  // images' records so the kubelet's image GC keeps them (containerd >= 1.7 honours it).
  // Default implementation: Unimplemented.
  virtual absl::Status Pin(const std::vector<std::string>& images, bool pinned) {
    (void)images;
    (void)pinned;
    return absl::UnimplementedError("this image backend cannot pin images");
  }
};

}  // namespace kim

#endif  // KIM_IMAGE_SERVICE_H_
