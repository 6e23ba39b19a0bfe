// PinContainerdImages: one images Update per record, masked to the pinned label.
#include "lib/images/containerd_pin.h"

#include "absl/strings/str_cat.h"
#include "containerd/services/images/v1/images.grpc.pb.h"
#include "lib/images/containerd_records.h"
#include "lib/images/distribution_receiver.h"

namespace kim {

namespace images = ::containerd::services::images::v1;

absl::Status PinContainerdImages(ImageService& service, const ContainerdConnection& connection,
                                 const std::vector<std::string>& arguments, bool pinned) {
  if (arguments.empty()) return absl::InvalidArgumentError("no image to pin");
  std::vector<Image> found;
  for (const std::string& argument : arguments) {  // every argument resolved before any change
    auto image = service.Status(argument);
    if (!image.ok()) return image.status();
    found.push_back(*std::move(image));
  }
  auto stub = images::Images::NewStub(connection.channel());
  for (const Image& image : found) {
    std::vector<std::string> names = image.repo_tags;
    names.insert(names.end(), image.repo_digests.begin(), image.repo_digests.end());
    names.push_back(IdRecordName(image.id));
    for (const std::string& name : names) {
      auto record = GetImageRecord(connection, name);
      if (absl::IsNotFound(record.status())) continue;  // no such record
      if (!record.ok()) return record.status();
      images::UpdateImageRequest request;
      request.mutable_image()->set_name(name);
      // The target goes too, though the mask leaves it alone: containerd 2.x dereferences it
      // (an Update without one crashes containerd 2.1.5).
      *request.mutable_image()->mutable_target() = record->target();
      if (pinned) (*request.mutable_image()->mutable_labels())[kCriPinnedLabel] = "pinned";
      // A label path without the label in the image removes it.
      request.mutable_update_mask()->add_paths(absl::StrCat("labels.", kCriPinnedLabel));
      images::UpdateImageResponse response;
      const grpc::Status status = stub->Update(connection.NewContext().get(), request, &response);
      if (status.error_code() == grpc::StatusCode::NOT_FOUND) continue;  // removed meanwhile
      if (!status.ok()) {
        return FromGrpc(status, absl::StrCat("cannot ", pinned ? "pin " : "unpin ", name));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace kim
