// Images in use by containerd's containers.
#include "lib/images/containerd_image_users.h"

#include <set>

#include <cpprest/json.h>

#include "absl/strings/str_cat.h"
#include "containerd/services/containers/v1/containers.grpc.pb.h"
#include "containerd/services/snapshots/v1/snapshots.grpc.pb.h"
#include "kim/digest.h"
#include "lib/images/containerd_blob_source.h"
#include "lib/images/image_filter.h"

namespace kim {
namespace {

namespace containers = ::containerd::services::containers::v1;
namespace snapshots = ::containerd::services::snapshots::v1;

constexpr char kCriContainerMetadata[] = "io.cri-containerd.container.metadata";

// The IDs of `images` that `container` names (by its image field or CRI metadata).
std::set<std::string> NamedImages(const containers::Container& container,
                                  const std::vector<Image>& images) {
  std::vector<std::string> names;
  if (!container.image().empty()) names.push_back(container.image());
  if (auto it = container.extensions().find(kCriContainerMetadata);
      it != container.extensions().end()) {
    if (std::string ref = CriMetadataImageRef(it->second.value()); !ref.empty()) {
      names.push_back(ref);
    }
  }
  std::set<std::string> ids;
  for (const std::string& name : names) {
    auto match = FindImage(images, name);
    if (match.ok()) ids.insert(images[match->index].id);
  }
  return ids;
}

// The parent of the container's root filesystem snapshot; "" when it has none.
absl::StatusOr<std::string> SnapshotParent(const ContainerdConnection& connection,
                                           snapshots::Snapshots::Stub& stub,
                                           const containers::Container& container) {
  if (container.snapshotter().empty() || container.snapshot_key().empty()) return "";
  snapshots::StatSnapshotRequest request;
  request.set_snapshotter(container.snapshotter());
  request.set_key(container.snapshot_key());
  snapshots::StatSnapshotResponse response;
  const grpc::Status status = stub.Stat(connection.NewContext().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return "";
  if (!status.ok()) {
    return FromGrpc(status, absl::StrCat("cannot read the snapshot of container ", container.id()));
  }
  return response.info().parent();
}

}  // namespace

std::string CriMetadataImageRef(std::string_view extension_json) {
  std::error_code error;
  const web::json::value root = web::json::value::parse(std::string(extension_json), error);
  if (error || !root.is_object() || !root.has_field("Metadata")) return "";
  const web::json::value& metadata = root.at("Metadata");
  if (!metadata.is_object() || !metadata.has_field("ImageRef") ||
      !metadata.at("ImageRef").is_string()) {
    return "";
  }
  return metadata.at("ImageRef").as_string();
}

std::string ImageConfigChainId(std::string_view config_json) {
  std::error_code error;
  const web::json::value config = web::json::value::parse(std::string(config_json), error);
  if (error || !config.is_object() || !config.has_field("rootfs")) return "";
  const web::json::value& rootfs = config.at("rootfs");
  if (!rootfs.is_object() || !rootfs.has_field("diff_ids") || !rootfs.at("diff_ids").is_array()) {
    return "";
  }
  std::string chain;
  for (const web::json::value& diff_id : rootfs.at("diff_ids").as_array()) {
    if (!diff_id.is_string()) return "";
    chain = chain.empty() ? diff_id.as_string()
                          : DigestOf(absl::StrCat(chain, " ", diff_id.as_string())).String();
  }
  return chain;
}

absl::StatusOr<std::map<std::string, int>> ImageUsers(
    const std::shared_ptr<ContainerdConnection>& connection, const std::vector<Image>& images,
    std::map<std::string, std::string>* chain_ids) {
  auto stub = containers::Containers::NewStub(connection->channel());
  containers::ListContainersResponse response;
  const grpc::Status status = stub->List(connection->NewContext().get(), {}, &response);
  if (!status.ok()) return FromGrpc(status, "cannot list containerd's containers");
  // Each container counts once per image: the images it names, and those whose layers its
  // root filesystem is made of (a name may have moved since; a sandbox names nothing).
  std::vector<std::pair<std::set<std::string>, std::string>> uses;  // named IDs, snapshot parent
  auto snapshot_stub = snapshots::Snapshots::NewStub(connection->channel());
  bool any_parent = false;
  for (const containers::Container& container : response.containers()) {
    auto parent = SnapshotParent(*connection, *snapshot_stub, container);
    if (!parent.ok()) return parent.status();
    any_parent = any_parent || !parent->empty();
    uses.emplace_back(NamedImages(container, images), *parent);
  }
  std::map<std::string, std::string> local;
  if (chain_ids == nullptr) chain_ids = &local;
  if (any_parent) {
    ContainerdBlobSource blobs(connection);
    for (const Image& image : images) {
      if (chain_ids->contains(image.id)) continue;
      auto config = blobs.ReadAll(Descriptor{.digest = image.id});
      if (config.ok()) (*chain_ids)[image.id] = ImageConfigChainId(*config);
    }
  }
  std::map<std::string, int> users;
  for (auto& [ids, parent] : uses) {
    if (!parent.empty()) {
      for (const Image& image : images) {
        auto chain = chain_ids->find(image.id);
        if (chain != chain_ids->end() && chain->second == parent) ids.insert(image.id);
      }
    }
    for (const std::string& id : ids) ++users[id];
  }
  return users;
}

}  // namespace kim
