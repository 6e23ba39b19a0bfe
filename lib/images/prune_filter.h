// `docker image prune --filter` over containerd images: until=DURATION|TIMESTAMP and
// label=/label!=KEY[=VALUE], parsed once and matched against an image's creation date and config
// labels. Pure logic; internal.
#ifndef KIM_LIB_IMAGES_PRUNE_FILTER_H_
#define KIM_LIB_IMAGES_PRUNE_FILTER_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kim {

// The parsed filters of one prune. An image is pruned only when it matches every filter.
class PruneFilter {
 public:
  // Parses filters as Docker takes them: "until=24h" / "until=2006-01-02T15:04:05Z" /
  // "until=1700000000" (created before; durations count back from `now`), "label=KEY",
  // "label=KEY=VALUE", "label!=KEY", "label!=KEY=VALUE". InvalidArgument with Docker's wording
  // (`invalid filter 'x'`, `failed to parse value ...`) for anything else.
  static absl::StatusOr<PruneFilter> Parse(const std::vector<std::string>& filters,
                                           absl::Time now);

  // True when an image created at `created` (InfinitePast when unknown: it then never matches
  // until=) with config labels `labels` passes every filter.
  bool Matches(absl::Time created, const std::map<std::string, std::string>& labels) const;

  // True when there are no filters: every image matches, no config needs reading.
  bool trivial() const { return !until_ && labels_.empty(); }

 private:
  struct LabelTest {
    bool negated = false;               // label!=
    std::string key;
    std::optional<std::string> value;   // unset: the key alone
  };
  std::optional<absl::Time> until_;
  std::vector<LabelTest> labels_;
};

// The "config.Labels" of an image config blob; empty when it has none or does not parse.
std::map<std::string, std::string> ImageConfigLabels(std::string_view config_json);

// Parses a Docker timestamp or duration filter value (`until=`): a Go duration counted back
// from `now` ("24h", "90m", "1h30m"), RFC 3339 ("2024-01-02T15:04:05Z", fractions and offsets
// allowed), "2006-01-02T15:04:05", "2006-01-02", or Unix seconds ("1700000000[.5]").
absl::StatusOr<absl::Time> ParseUntil(std::string_view value, absl::Time now);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_PRUNE_FILTER_H_
