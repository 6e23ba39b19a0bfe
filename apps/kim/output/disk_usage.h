// `kim system df`: Docker's disk usage summary (TYPE, TOTAL, ACTIVE, SIZE, RECLAIMABLE) and its
// -v tables, for the node's images and BuildKit's build cache.
#ifndef KIM_APPS_KIM_OUTPUT_DISK_USAGE_H_
#define KIM_APPS_KIM_OUTPUT_DISK_USAGE_H_

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "kim/build_service.h"
#include "kim/image_service.h"

namespace kim::cli {

// What `system df` reports on.
struct DiskUsage {
  std::vector<Image> images;
  std::map<std::string, int> containers;  // image ID -> containers using it
  // The build cache; nullopt when the builder could not be asked (the row is left out).
  std::optional<std::vector<BuildCacheRecord>> cache;
};

// One summary row: the fields --format offers (Type, TotalCount, Active, Size, Reclaimable).
std::vector<std::map<std::string, std::string>> DiskUsageRows(const DiskUsage& usage);

// Writes the summary table, or the rows through a --format template ("table ...", "json",
// text); with `verbose` (and no --format) Docker's per-image and per-cache-record tables
// instead. InvalidArgument for a bad --format.
absl::Status WriteDiskUsage(const DiskUsage& usage, bool verbose, const std::string& format,
                            absl::Time now, std::ostream& out);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_DISK_USAGE_H_
