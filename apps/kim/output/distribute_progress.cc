// Distribution progress rendering.
#include "apps/kim/output/distribute_progress.h"

#include <algorithm>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "kim/units.h"

namespace kim::cli {
namespace {

constexpr int kBarWidth = 40;

std::string Bar(int64_t done, int64_t total) {
  const int filled = total > 0 ? static_cast<int>(kBarWidth * std::min(done, total) / total) : 0;
  std::string bar = "[" + std::string(filled, '=');
  if (filled < kBarWidth) bar += ">" + std::string(kBarWidth - filled - 1, ' ');
  return bar + "]";
}

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
        absl::StrAppend(&line, " ", Bar(progress.bytes_sent, progress.bytes_total), " ",
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
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = std::find_if(nodes_.begin(), nodes_.end(),
                         [&](const DistributeProgress& n) { return n.node == progress.node; });
  const bool phase_changed = it == nodes_.end() || it->phase != progress.phase;
  if (it == nodes_.end()) {
    nodes_.push_back(progress);
  } else {
    *it = progress;
  }
  if (!tty_) {
    // Plain output: one line when a node changes phase, never one per byte count.
    if (phase_changed) out_ << Line(progress, /*with_bar=*/false) << "\n" << std::flush;
    return;
  }
  const absl::Time now = absl::Now();
  if (phase_changed || now - last_draw_ > absl::Milliseconds(100)) {
    last_draw_ = now;
    Redraw();
  }
}

void DistributeProgressPrinter::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (tty_) Redraw();
}

void DistributeProgressPrinter::Redraw() {
  if (lines_drawn_ > 0) out_ << "\033[" << lines_drawn_ << "A";
  for (const DistributeProgress& node : nodes_) out_ << "\033[2K\r" << Line(node) << "\n";
  lines_drawn_ = nodes_.size();
  out_ << std::flush;
}

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
