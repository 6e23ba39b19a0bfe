// Which session services one build offers buildkitd: its local directories (or the context
// archive), Health, Auth, the --secret and --ssh values, and the client-side outputs. Internal.
#ifndef KIM_LIB_BUILD_SESSION_METHODS_H_
#define KIM_LIB_BUILD_SESSION_METHODS_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/build_service.h"
#include "kim/credentials.h"
#include "lib/build/attachables.h"
#include "lib/build/build_context.h"
#include "lib/build/plan_solve.h"

namespace kim::build {

// The `--ssh` values as agents to serve, like buildx: no path = $SSH_AUTH_SOCK; one socket =
// that agent; otherwise key files, loaded now. InvalidArgument (naming the --ssh id) without
// a socket or for a key file that cannot be used.
absl::StatusOr<std::vector<SshForward>> SshForwards(const std::vector<BuildSsh>& ssh);

// Every method of the build's session. With a context archive, sets the frontend's "context"
// in `plan` to the upload's URL. Errors as for SshForwards.
absl::StatusOr<std::vector<SessionMethod>> SessionMethodsFor(
    const BuildOptions& options, const LocalContext& context,
    std::shared_ptr<const CredentialStore> credentials, SolvePlan* plan);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_SESSION_METHODS_H_
