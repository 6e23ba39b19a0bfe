// containerd's image records (name -> target descriptor) read, written and deleted through its
// images service, shared by tag, rmi, prune, save and load. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_RECORDS_H_
#define KIM_LIB_IMAGES_CONTAINERD_RECORDS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "containerd/services/images/v1/images.pb.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/descriptor.h"

namespace kim {

// The record named `name`; NotFound `image record NAME: ...` when there is none.
absl::StatusOr<containerd::services::images::v1::Image> GetImageRecord(
    const ContainerdConnection& connection, const std::string& name);

// What CreateOrUpdateImageRecord changes on a record that exists already.
enum class RecordUpdate {
  kTarget,           // the target only
  kTargetAndLabels,  // the target, and each of the record's labels (others stay)
  kEverything,       // the target, and the labels replaced by the record's
};

// Creates record `name` pointing at `record`'s target with its labels, or, when the name
// exists, changes what `update` says in one Update (never delete-then-create). In `lease`.
absl::Status CreateOrUpdateImageRecord(const ContainerdConnection& connection,
                                       const std::string& name,
                                       const containerd::services::images::v1::Image& record,
                                       const std::string& lease,
                                       RecordUpdate update = RecordUpdate::kTarget);

// Points every one of `names` at `record`'s target, or none of them: when one fails, those
// done before it are put back (a created name deleted, a moved one pointed back). In `lease`.
// With `set_labels`, existing names also get `record`'s labels (and get their own back on undo).
absl::Status TagAllOrNothing(const ContainerdConnection& connection,
                             const std::vector<std::string>& names,
                             const containerd::services::images::v1::Image& record,
                             const std::string& lease, bool set_labels = false);

// A record's target as a Descriptor.
Descriptor RecordTarget(const containerd::services::images::v1::Image& record);

// Deletes record `name` if it still points at one of `targets` (any target when empty), with
// `sync` making containerd collect garbage before answering. Returns whether it was deleted
// (false when already gone); FailedPrecondition when it now points elsewhere. containerd 2.x
// checks the target again in the delete itself, so a concurrent retag is never lost.
absl::StatusOr<bool> DeleteImageRecordIf(const ContainerdConnection& connection,
                                         const std::string& name,
                                         const std::set<std::string>& targets, bool sync);

// "sha256:" + `id` unless it has the prefix already: the name of an image's ID record.
std::string IdRecordName(const std::string& id);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_RECORDS_H_
