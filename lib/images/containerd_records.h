// Reading and deleting containerd image records (the named pointers of the images service)
// with a precondition, shared by rmi and prune. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_RECORDS_H_
#define KIM_LIB_IMAGES_CONTAINERD_RECORDS_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "containerd/services/images/v1/images.grpc.pb.h"
#include "lib/images/containerd_connection.h"

namespace kim {

// The record named `name`; NotFound when there is none.
absl::StatusOr<containerd::services::images::v1::Image> GetImageRecord(
    const ContainerdConnection& connection, containerd::services::images::v1::Images::Stub& stub,
    const std::string& name);

// Deletes record `name` if it still points at one of `targets` (any target when empty), with
// `sync` making containerd collect garbage before answering. Returns whether it was deleted
// (false when already gone); FailedPrecondition when it now points elsewhere.
absl::StatusOr<bool> DeleteImageRecordIf(const ContainerdConnection& connection,
                                         containerd::services::images::v1::Images::Stub& stub,
                                         const std::string& name,
                                         const std::set<std::string>& targets, bool sync);

// "sha256:" + `id` unless it has the prefix already: the name of an image's ID record.
std::string IdRecordName(const std::string& id);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_RECORDS_H_
