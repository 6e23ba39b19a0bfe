// Image records with preconditions.
#include "lib/images/containerd_records.h"

#include "absl/strings/str_cat.h"

namespace kim {

namespace images = ::containerd::services::images::v1;

absl::StatusOr<images::Image> GetImageRecord(const ContainerdConnection& connection,
                                             images::Images::Stub& stub, const std::string& name) {
  images::GetImageRequest request;
  request.set_name(name);
  images::GetImageResponse response;
  const grpc::Status status = stub.Get(connection.NewContext().get(), request, &response);
  if (!status.ok()) return FromGrpc(status, absl::StrCat("image record ", name));
  return response.image();
}

absl::StatusOr<bool> DeleteImageRecordIf(const ContainerdConnection& connection,
                                         images::Images::Stub& stub, const std::string& name,
                                         const std::set<std::string>& targets, bool sync) {
  auto record = GetImageRecord(connection, stub, name);
  if (absl::IsNotFound(record.status())) return false;
  if (!record.ok()) return record.status();
  if (!targets.empty() && !targets.contains(record->target().digest())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "image name ", name, " was changed to another image meanwhile; it was left alone"));
  }
  images::DeleteImageRequest request;
  request.set_name(name);
  request.set_sync(sync);
  google::protobuf::Empty response;
  const grpc::Status status = stub.Delete(connection.NewContext().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return false;
  if (!status.ok()) return FromGrpc(status, absl::StrCat("cannot remove ", name));
  return true;
}

std::string IdRecordName(const std::string& id) {
  return id.starts_with("sha256:") ? id : absl::StrCat("sha256:", id);
}

}  // namespace kim
