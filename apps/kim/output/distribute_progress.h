// Progress of a distribution, one line per node: a bar redrawn in place on a terminal, one
// plain line per change of phase when the output is a pipe or a file; and the closing summary.
#ifndef KIM_APPS_KIM_OUTPUT_DISTRIBUTE_PROGRESS_H_
#define KIM_APPS_KIM_OUTPUT_DISTRIBUTE_PROGRESS_H_

#include <iosfwd>
#include <string>

#include "apps/kim/output/live_lines.h"
#include "kim/image_service.h"

namespace kim::cli {

// Renders DistributeProgress events. Thread-safe: events may come from any thread.
class DistributeProgressPrinter {
 public:
  // `tty` selects the redrawn view.
  DistributeProgressPrinter(std::ostream& out, bool tty) : lines_(out, tty) {}

  // Records one event and updates the output (at most ~10 redraws per second on a terminal).
  void Update(const DistributeProgress& progress);

  // Draws the final state (call once, when the distribution ends).
  void Finish();

  // One line for a node, e.g. "node-1: Sending 3 of 5 blobs [===>   ] 1.2MB/10.5MB"; without
  // the bar when `with_bar` is false (plain output).
  static std::string Line(const DistributeProgress& progress, bool with_bar = true);

 private:
  LiveLines lines_;
};

// The closing line for one node's result: "node-1: 3 of 5 blobs sent (12.3MB)", "node-1: up to
// date (5 blobs present)", or "node-1: failed: <why>".
std::string DistributionSummary(const NodeDistribution& result);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_DISTRIBUTE_PROGRESS_H_
