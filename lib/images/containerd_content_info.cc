// Content Info and Update calls, and the GC label maps of indexes and manifests.
#include "lib/images/containerd_content_info.h"

#include "absl/strings/str_cat.h"
#include "containerd/services/content/v1/content.grpc.pb.h"

namespace kim {

namespace content = ::containerd::services::content::v1;

absl::StatusOr<bool> ContentExists(const ContainerdConnection& connection,
                                   const std::string& digest) {
  content::InfoRequest request;
  request.set_digest(digest);
  content::InfoResponse response;
  auto stub = content::Content::NewStub(connection.channel());
  const grpc::Status status = stub->Info(connection.NewContext().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return false;
  if (!status.ok()) return FromGrpc(status, absl::StrCat("cannot look up blob ", digest));
  return true;
}

absl::Status LabelContent(const ContainerdConnection& connection, const std::string& lease,
                          const std::string& digest,
                          const std::map<std::string, std::string>& labels) {
  content::UpdateContentRequest request;
  request.mutable_info()->set_digest(digest);
  for (const auto& [key, label] : labels) {
    (*request.mutable_info()->mutable_labels())[key] = label;
    request.mutable_update_mask()->add_paths(absl::StrCat("labels.", key));
  }
  content::UpdateContentResponse response;
  auto stub = content::Content::NewStub(connection.channel());
  return FromGrpc(stub->Update(connection.NewContext(lease).get(), request, &response),
                  absl::StrCat("cannot label blob ", digest));
}

std::map<std::string, std::string> IndexGcLabels(const std::vector<Descriptor>& entries) {
  std::map<std::string, std::string> labels;
  for (size_t i = 0; i < entries.size(); ++i) {
    labels[absl::StrCat("containerd.io/gc.ref.content.m.", i)] = entries[i].digest;
  }
  return labels;
}

std::map<std::string, std::string> ManifestGcLabels(const std::vector<Descriptor>& blobs) {
  std::map<std::string, std::string> labels;
  if (blobs.empty()) return labels;
  labels["containerd.io/gc.ref.content.config"] = blobs.front().digest;
  for (size_t i = 1; i < blobs.size(); ++i) {
    labels[absl::StrCat("containerd.io/gc.ref.content.l.", i - 1)] = blobs[i].digest;
  }
  return labels;
}

}  // namespace kim
