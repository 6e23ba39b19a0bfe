// Distribution progress rendering.
#include "apps/kim/output/distribute_progress.h"

#include <algorithm>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "kim/units.h"

namespace kim::cli {
namespace {

constexpr int kBarWidth = 40;

std::string Size(int64_t bytes) { return HumanSize(static_cast<double>(bytes)); }

}  // namespace

std::string DistributeProgressPrinter::Line(const DistributeProgress& progress, bool with_bar) {
  using Phase = DistributeProgress::Phase;
  const std::string node = absl::StrCat(progress.node, ": ");
  switch (progress.phase) {
    case Phase::kComparing:
      return absl::StrCat(node, "Comparing ", progress.blobs_total, " blobs");
    case Phase::kSending: {
      std::string line = absl::StrCat(node, "Sending ", progress.blobs_missing, " of ",
                                      progress.blobs_total, " blobs");
      if (with_bar && progress.bytes_total > 0) {
        absl::StrAppend(&line, " ",
                        ProgressBar(progress.bytes_sent, progress.bytes_total, kBarWidth), " ",
                        absl::StrFormat("%8s/%s", Size(progress.bytes_sent),
                                        Size(progress.bytes_total)));
      } else if (!with_bar) {
        absl::StrAppend(&line, " (", Size(progress.bytes_total), ")");
      }
      return line;
    }
    case Phase::kCommitting:
      return absl::StrCat(node, "Committing");
    case Phase::kDone:
      return absl::StrCat(node, "Done");
    case Phase::kFailed:
      return absl::StrCat(node, "Failed: ", progress.error);
  }
  return node;
}

void DistributeProgressPrinter::Update(const DistributeProgress& progress) {
  lines_.Set(progress.node, std::to_string(static_cast<int>(progress.phase)), Line(progress),
             Line(progress, /*with_bar=*/false));
}

void DistributeProgressPrinter::Finish() { lines_.Finish(); }

std::string DistributionSummary(const NodeDistribution& result) {
  const std::string node = absl::StrCat(result.node, ": ");
  if (!result.status.ok()) return absl::StrCat(node, "failed: ", result.status.message());
  if (result.blobs_sent == 0) {
    return absl::StrCat(node, "up to date (", result.blobs_total, " blobs present)");
  }
  return absl::StrCat(node, result.blobs_sent, " of ", result.blobs_total, " blobs sent (",
                      Size(result.bytes_sent), ")");
}

}  // namespace kim::cli
