// BuildKit's build cache through Control.DiskUsage and Control.Prune: the records as
// BuildCacheRecord, the prune options as PruneRequest. Internal.
#ifndef KIM_LIB_BUILD_BUILDKIT_CACHE_H_
#define KIM_LIB_BUILD_BUILDKIT_CACHE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/build_service.h"
#include "moby/buildkit/v1/control.grpc.pb.h"

namespace kim::build {

// Where the daemon is, for error messages: "cannot reach buildkitd at ADDRESS: ... (HINT)".
struct CacheCallTarget {
  std::string address;
  std::string unreachable_hint;
};

// Every record of the daemon's build cache.
absl::StatusOr<std::vector<BuildCacheRecord>> CacheDiskUsage(
    moby::buildkit::v1::Control::Stub& control, const CacheCallTarget& target);

// Prunes the build cache; returns the records removed, in the order the daemon reported them.
absl::StatusOr<std::vector<BuildCacheRecord>> CachePrune(
    moby::buildkit::v1::Control::Stub& control, const CacheCallTarget& target,
    const BuildPruneOptions& options);

// `record` as kim's type (exposed for unit tests).
BuildCacheRecord FromUsageRecord(const moby::buildkit::v1::UsageRecord& record);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_BUILDKIT_CACHE_H_
