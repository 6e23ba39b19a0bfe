// Image records through containerd's images service (Get, Create, Update, Delete).
#include "lib/images/containerd_records.h"

#include "absl/strings/str_cat.h"
#include "containerd/services/images/v1/images.grpc.pb.h"
#include "lib/core/reversible_steps.h"

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
                                       const std::string& lease, RecordUpdate what) {
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
  if (what == RecordUpdate::kEverything) {
    *update.mutable_image()->mutable_labels() = record.labels();
    update.mutable_update_mask()->add_paths("labels");
  } else if (what == RecordUpdate::kTargetAndLabels) {
    *update.mutable_image()->mutable_labels() = record.labels();
    for (const auto& [key, value] : record.labels()) {
      update.mutable_update_mask()->add_paths(absl::StrCat("labels.", key));
    }
  }
  images::UpdateImageResponse updated;
  status = stub->Update(connection.NewContext(lease).get(), update, &updated);
  return FromGrpc(status, absl::StrCat("cannot tag ", name));
}

absl::Status TagAllOrNothing(const ContainerdConnection& connection,
                             const std::vector<std::string>& names, const images::Image& record,
                             const std::string& lease, bool set_labels) {
  const RecordUpdate apply = set_labels ? RecordUpdate::kTargetAndLabels : RecordUpdate::kTarget;
  const RecordUpdate restore = set_labels ? RecordUpdate::kEverything : RecordUpdate::kTarget;
  std::vector<ReversibleStep> steps;
  for (const std::string& name : names) {
    auto previous = GetImageRecord(connection, name);
    if (!previous.ok() && !absl::IsNotFound(previous.status())) return previous.status();
    const bool existed = previous.ok();
    const images::Image before = existed ? *previous : images::Image{};
    steps.push_back(ReversibleStep{
        .apply = [&connection, &record, &lease, name, apply] {
          return CreateOrUpdateImageRecord(connection, name, record, lease, apply);
        },
        .undo = [&connection, &record, &lease, name, existed, before, restore]() -> absl::Status {
          if (existed) return CreateOrUpdateImageRecord(connection, name, before, lease, restore);
          auto deleted = DeleteImageRecordIf(connection, name, {record.target().digest()}, false);
          return deleted.status();
        }});
  }
  return ApplyAllOrNothing(steps);
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
  *request.mutable_target() = record->target();  // containerd 2.x: only if it still points there
  google::protobuf::Empty response;
  const grpc::Status status = stub->Delete(connection.NewContext().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    // Gone, or (containerd 2.x) moved to another target between the Get and the Delete.
    auto now = GetImageRecord(connection, name);
    if (now.ok() && now->target().digest() != record->target().digest()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "image name ", name, " was changed to another image meanwhile; it was left alone"));
    }
    return false;
  }
  if (!status.ok()) return FromGrpc(status, absl::StrCat("cannot remove ", name));
  return true;
}

std::string IdRecordName(const std::string& id) {
  return id.starts_with("sha256:") ? id : absl::StrCat("sha256:", id);
}

}  // namespace kim
