// Image records through containerd's images service (Get, Create, Update, Delete).
#include "lib/images/containerd_records.h"

#include "absl/strings/str_cat.h"
#include "containerd/services/images/v1/images.grpc.pb.h"

namespace kim {

namespace images = ::containerd::services::images::v1;

absl::StatusOr<images::Image> GetImageRecord(const ContainerdConnection& connection,
                                             const std::string& name) {
  auto stub = images::Images::NewStub(connection.channel());
  images::GetImageRequest request;
  request.set_name(name);
  images::GetImageResponse response;
  const grpc::Status status = stub->Get(connection.NewContext().get(), request, &response);
  if (!status.ok()) return FromGrpc(status, absl::StrCat("image record ", name));
  return response.image();
}

absl::Status CreateOrUpdateImageRecord(const ContainerdConnection& connection,
                                       const std::string& name, const images::Image& record,
                                       const std::string& lease) {
  auto stub = images::Images::NewStub(connection.channel());
  images::CreateImageRequest create;
  images::Image* image = create.mutable_image();
  image->set_name(name);
  *image->mutable_labels() = record.labels();
  *image->mutable_target() = record.target();
  images::CreateImageResponse created;
  grpc::Status status = stub->Create(connection.NewContext(lease).get(), create, &created);
  if (status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
    return FromGrpc(status, absl::StrCat("cannot tag ", name));
  }
  // The name exists: point it at the new target in one step.
  images::UpdateImageRequest update;
  update.mutable_image()->set_name(name);
  *update.mutable_image()->mutable_target() = record.target();
  update.mutable_update_mask()->add_paths("target");
  images::UpdateImageResponse updated;
  status = stub->Update(connection.NewContext(lease).get(), update, &updated);
  return FromGrpc(status, absl::StrCat("cannot tag ", name));
}

Descriptor RecordTarget(const images::Image& record) {
  return Descriptor{.media_type = record.target().media_type(),
                    .digest = record.target().digest(),
                    .size = record.target().size()};
}

absl::StatusOr<bool> DeleteImageRecordIf(const ContainerdConnection& connection,
                                         const std::string& name,
                                         const std::set<std::string>& targets, bool sync) {
  auto record = GetImageRecord(connection, name);
  if (absl::IsNotFound(record.status())) return false;
  if (!record.ok()) return record.status();
  if (!targets.empty() && !targets.contains(record->target().digest())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "image name ", name, " was changed to another image meanwhile; it was left alone"));
  }
  auto stub = images::Images::NewStub(connection.channel());
  images::DeleteImageRequest request;
  request.set_name(name);
  request.set_sync(sync);
  google::protobuf::Empty response;
  const grpc::Status status = stub->Delete(connection.NewContext().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return false;
  if (!status.ok()) return FromGrpc(status, absl::StrCat("cannot remove ", name));
  return true;
}

std::string IdRecordName(const std::string& id) {
  return id.starts_with("sha256:") ? id : absl::StrCat("sha256:", id);
}

}  // namespace kim
