// Images in use by containerd's containers.
#include "lib/images/containerd_image_users.h"

#include <set>

#include <cpprest/json.h>

#include "containerd/services/containers/v1/containers.grpc.pb.h"
#include "lib/images/image_filter.h"

namespace kim {
namespace {

namespace containers = ::containerd::services::containers::v1;

constexpr char kCriContainerMetadata[] = "io.cri-containerd.container.metadata";

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

absl::StatusOr<std::map<std::string, int>> ImageUsers(const ContainerdConnection& connection,
                                                      const std::vector<Image>& images) {
  auto stub = containers::Containers::NewStub(connection.channel());
  containers::ListContainersResponse response;
  const grpc::Status status = stub->List(connection.NewContext().get(), {}, &response);
  if (!status.ok()) return FromGrpc(status, "cannot list containerd's containers");
  std::map<std::string, int> users;
  for (const containers::Container& container : response.containers()) {
    std::vector<std::string> names;
    if (!container.image().empty()) names.push_back(container.image());
    if (auto it = container.extensions().find(kCriContainerMetadata);
        it != container.extensions().end()) {
      if (std::string ref = CriMetadataImageRef(it->second.value()); !ref.empty()) {
        names.push_back(ref);
      }
    }
    std::set<std::string> ids;  // a container counts once per image
    for (const std::string& name : names) {
      auto match = FindImage(images, name);
      if (match.ok()) ids.insert(images[match->index].id);
    }
    for (const std::string& id : ids) ++users[id];
  }
  return users;
}

}  // namespace kim
