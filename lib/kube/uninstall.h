// `kim system uninstall`: taking the builder out of a cluster. Internal to libkim.
#ifndef KIM_LIB_KUBE_UNINSTALL_H_
#define KIM_LIB_KUBE_UNINSTALL_H_

#include <string>

#include "absl/status/status.h"
#include "kim/installer.h"
#include "lib/kube/client.h"

namespace kim::kube {

// Removes kim's builder from namespace `ns`: first the builder role and runtime labels from
// every node (so that nothing is scheduled there again, whatever happens next), then the
// DaemonSets (builder and agents), Service, Endpoints, ServiceAccount and kim's Secrets, then the namespace when kim created it (or with
// options.force). Waits until each is gone unless options.no_wait; at options.timeout fails
// naming what holds the object (finalizers; for the namespace its conditions and contents).
absl::Status UninstallBuilder(Client& client, const std::string& ns,
                              const UninstallOptions& options);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_UNINSTALL_H_
