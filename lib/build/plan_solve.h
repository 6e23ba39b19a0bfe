// PlanSolve: what one `kim build` asks of buildkitd's Solve (frontend attributes, exporters,
// cache imports and exports, entitlements, named local contexts), derived from BuildOptions
// without contacting anything. Internal to libkim (exposed for unit tests).
#ifndef KIM_LIB_BUILD_PLAN_SOLVE_H_
#define KIM_LIB_BUILD_PLAN_SOLVE_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/build_service.h"

namespace kim::build {

// One exporter of a solve; its index in SolvePlan::exports is the id the daemon names when it
// sends client-side output back through FileSend.
struct PlannedExport {
  std::string type;                                     // image, local, tar, oci, docker
  std::map<std::string, std::string> attrs;             // sent to the daemon
  std::string directory;                                // type=local dest on this machine
  std::string file;                                     // tar/oci/docker dest ("-" = stdout)
  std::string layout_directory;                         // oci with tar=false: dest directory
};

// The SolveRequest fields kim derives from BuildOptions.
struct SolvePlan {
  std::map<std::string, std::string> frontend_attrs;
  std::vector<PlannedExport> exports;                   // none = cache only
  std::vector<std::string> cache_imports;               // registry refs
  // Cache exports: type ("registry", "inline") and attributes.
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> cache_exports;
  std::vector<std::string> entitlements;                // e.g. "network.host"
  std::map<std::string, std::string> local_contexts;    // named local contexts: name -> dir
};
// The plan of one solve for `options` with the Dockerfile called `dockerfile_name` in its
// directory. InvalidArgument (or Unimplemented) naming the flag for a value BuildKit or kim
// cannot use: cache types, --network, --build-context, --provenance, -o combinations.
absl::StatusOr<SolvePlan> PlanSolve(const BuildOptions& options, const std::string& dockerfile_name);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_PLAN_SOLVE_H_
