// Waiting for deleted objects to be gone, and saying what holds them when they are not:
// finalizers, and for a namespace its status conditions and the objects still in it.
// Internal to libkim.
#ifndef KIM_LIB_KUBE_DELETION_H_
#define KIM_LIB_KUBE_DELETION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"
#include "lib/kube/object_helpers.h"

namespace kim::kube {

// Waits (watching) until the named object no longer exists. At `deadline`, DeadlineExceeded
// "timed out after TIMEOUT waiting for ... to be deleted: ..." naming what holds it
// (DescribeHold). Says "Waiting for ... to be deleted" once.
absl::Status WaitDeleted(Client& client, const Resource& resource, const std::string& ns,
                         const std::string& name, absl::Time deadline, absl::Duration timeout,
                         const Progress& progress);

// What keeps `object` (of `resource`) from going away: its finalizers and, for a namespace,
// its status conditions and the objects of common kinds still in it (read through `client`),
// with a hint when nothing will ever remove them. Empty when nothing is known to hold it.
std::string DescribeHold(Client& client, const Resource& resource, const Json& object);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_DELETION_H_
