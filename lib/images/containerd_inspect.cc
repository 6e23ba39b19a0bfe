// Inspect over containerd: manifest, config and layers from the content store; unpacked layer
// sizes from the snapshots service.
#include "lib/images/containerd_inspect.h"

#include <cpprest/json.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "containerd/services/content/v1/content.grpc.pb.h"
#include "containerd/services/snapshots/v1/snapshots.grpc.pb.h"
#include "kim/digest.h"
#include "kim/platform.h"
#include "lib/images/containerd_image_json.h"

namespace kim {
namespace {

namespace content = ::containerd::services::content::v1;
namespace snapshots = ::containerd::services::snapshots::v1;

// The one snapshotter whose usage is per layer (an upper directory of the layer's own files).
constexpr char kSnapshotter[] = "overlayfs";

// The manifest of `target` for the node: `target` itself, or the index's entry for the node.
absl::StatusOr<Descriptor> PlatformManifest(BlobSource& blobs, const Descriptor& target) {
  if (!IsIndex(target.media_type)) return target;
  auto index = blobs.ReadAll(target);
  if (!index.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the image's index ", target.digest, ": ", index.status().message()));
  }
  auto manifests = IndexManifests(*index);
  if (!manifests.ok()) return manifests.status();
  const Platform host = HostPlatform();
  auto it = std::find_if(manifests->begin(), manifests->end(), [&](const Descriptor& entry) {
    return entry.platform && entry.platform->Matches(host);
  });
  if (it == manifests->end()) {
    return absl::NotFoundError(absl::StrCat("image index ", target.digest,
                                            " has no manifest for this node's platform (",
                                            host.String(), ")"));
  }
  return *it;
}

// The unpacked size of each layer, by chain ID in `snapshotter`; -1 for those not there.
std::vector<int64_t> UnpackedSizes(const ContainerdConnection& connection,
                                   const std::vector<std::string>& chain_ids) {
  auto stub = snapshots::Snapshots::NewStub(connection.channel());
  std::vector<int64_t> sizes;
  for (const std::string& chain_id : chain_ids) {
    snapshots::UsageRequest request;
    request.set_snapshotter(kSnapshotter);
    request.set_key(chain_id);
    snapshots::UsageResponse response;
    const grpc::Status status = stub->Usage(connection.NewContext().get(), request, &response);
    sizes.push_back(status.ok() ? response.size() : -1);
  }
  return sizes;
}

// True when the config blob's labels say the image was unpacked into kSnapshotter.
bool UnpackedInSnapshotter(const ContainerdConnection& connection, const std::string& config) {
  auto stub = content::Content::NewStub(connection.channel());
  content::InfoRequest request;
  request.set_digest(config);
  content::InfoResponse response;
  if (!stub->Info(connection.NewContext().get(), request, &response).ok()) return false;
  return response.info().labels().count(
             absl::StrCat("containerd.io/gc.ref.snapshot.", kSnapshotter)) > 0;
}

}  // namespace

std::vector<std::string> ConfigDiffIds(std::string_view config_json) {
  std::error_code error;
  const web::json::value config = web::json::value::parse(std::string(config_json), error);
  std::vector<std::string> diff_ids;
  if (error || !config.is_object() || !config.has_object_field("rootfs")) return diff_ids;
  const web::json::value& rootfs = config.at("rootfs");
  if (!rootfs.has_array_field("diff_ids")) return diff_ids;
  for (const web::json::value& id : rootfs.at("diff_ids").as_array()) {
    if (id.is_string()) diff_ids.push_back(id.as_string());
  }
  return diff_ids;
}

std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> chain;
  for (const std::string& diff_id : diff_ids) {
    chain.push_back(chain.empty() ? diff_id
                                  : DigestOf(absl::StrCat(chain.back(), " ", diff_id)).String());
  }
  return chain;
}

absl::StatusOr<ImageDetails> InspectContainerdImage(
    const std::shared_ptr<ContainerdConnection>& connection, BlobSource& blobs, Image image,
    const Descriptor& target) {
  ImageDetails details;
  if (IsIndex(target.media_type)) details.index_digest = target.digest;
  auto manifest_descriptor = PlatformManifest(blobs, target);
  if (!manifest_descriptor.ok()) return manifest_descriptor.status();
  details.manifest_digest = manifest_descriptor->digest;
  details.manifest_media_type = manifest_descriptor->media_type;
  auto manifest = blobs.ReadAll(*manifest_descriptor);
  if (!manifest.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read manifest ", details.manifest_digest, ": ", manifest.status().message()));
  }
  auto manifest_blobs = ManifestBlobs(*manifest);
  if (!manifest_blobs.ok()) return manifest_blobs.status();
  const Descriptor& config = manifest_blobs->front();
  if (config.digest != image.id) {
    return absl::FailedPreconditionError(absl::StrCat(
        "image ", image.id, ": its manifest ", details.manifest_digest, " names config ",
        config.digest, " instead"));
  }
  auto config_json = blobs.ReadAll(config);
  if (!config_json.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read the config of image ",
                                                      image.id, ": ",
                                                      config_json.status().message()));
  }
  details.config_json = *std::move(config_json);

  const std::vector<std::string> diff_ids = ConfigDiffIds(details.config_json);
  std::vector<int64_t> unpacked;
  if (diff_ids.size() + 1 == manifest_blobs->size() &&
      UnpackedInSnapshotter(*connection, config.digest)) {
    unpacked = UnpackedSizes(*connection, ChainIds(diff_ids));
  }
  for (size_t i = 1; i < manifest_blobs->size(); ++i) {
    const Descriptor& blob = (*manifest_blobs)[i];
    LayerDetails layer{.digest = blob.digest, .media_type = blob.media_type, .size = blob.size};
    if (i - 1 < diff_ids.size()) layer.diff_id = diff_ids[i - 1];
    if (i - 1 < unpacked.size()) layer.unpacked_size = unpacked[i - 1];
    details.layers.push_back(std::move(layer));
  }
  details.image = std::move(image);
  return details;
}

}  // namespace kim
