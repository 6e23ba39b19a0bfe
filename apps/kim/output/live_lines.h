// Lines that follow the state of several things at once (blobs of a pull, nodes of a
// distribution), as the Docker CLI shows progress: redrawn in place on a terminal, one plain line
// per change of state when the output is a pipe or a file.
#ifndef KIM_APPS_KIM_OUTPUT_LIVE_LINES_H_
#define KIM_APPS_KIM_OUTPUT_LIVE_LINES_H_

#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace kim::cli {

// One line per key, in order of first appearance. Thread-safe.
class LiveLines {
 public:
  // `tty` selects the redrawn view.
  LiveLines(std::ostream& out, bool tty) : out_(out), tty_(tty) {}

  // Sets `key`'s line. On a terminal `full` is drawn (at once when `state` changed, else at most
  // every 100 ms); on a pipe `plain` is printed, only when `state` changed.
  void Set(const std::string& key, const std::string& state, const std::string& full,
           const std::string& plain);

  // Draws the final state on a terminal (call once, at the end).
  void Finish();

 private:
  struct Line {
    std::string key;
    std::string state;
    std::string text;
  };
  void Redraw();

  std::ostream& out_;
  const bool tty_;
  std::mutex mutex_;
  std::vector<Line> lines_;
  size_t lines_drawn_ = 0;
  absl::Time last_draw_ = absl::InfinitePast();
};

// A Docker-style bar, "[=====>    ]", `width` cells wide, for `done` of `total`.
std::string ProgressBar(int64_t done, int64_t total, int width);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_LIVE_LINES_H_
