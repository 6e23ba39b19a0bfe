// containerd's image records (name -> target descriptor) read and written through its images
// service, shared by tag, save and load. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_RECORDS_H_
#define KIM_LIB_IMAGES_CONTAINERD_RECORDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "containerd/services/images/v1/images.pb.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/descriptor.h"

namespace kim {

// The record named `name`; NotFound `image record NAME: ...` when there is none.
absl::StatusOr<containerd::services::images::v1::Image> GetImageRecord(
    const ContainerdConnection& connection, const std::string& name);

// Creates record `name` pointing at `record`'s target with its labels, or, when the name
// exists, points it at that target in one Update (never delete-then-create). In `lease`.
absl::Status CreateOrUpdateImageRecord(const ContainerdConnection& connection,
                                       const std::string& name,
                                       const containerd::services::images::v1::Image& record,
                                       const std::string& lease);

// A record's target as a Descriptor.
Descriptor RecordTarget(const containerd::services::images::v1::Image& record);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_RECORDS_H_
