// Per-blob progress of a pull or push, as the Docker CLI shows it: bars redrawn in place on a
// terminal, one plain line per change of state when the output is a pipe or a file.
#ifndef KIM_APPS_KIM_OUTPUT_PROGRESS_PRINTER_H_
#define KIM_APPS_KIM_OUTPUT_PROGRESS_PRINTER_H_

#include <iosfwd>
#include <string>

#include "apps/kim/output/live_lines.h"
#include "kim/progress.h"

namespace kim::cli {

// Renders BlobProgress events. Thread-safe: events may come from any thread.
class ProgressPrinter {
 public:
  // `tty` selects the redrawn view; `is_push` the words ("Pushing" vs "Downloading").
  ProgressPrinter(std::ostream& out, bool tty, bool is_push) : lines_(out, tty), is_push_(is_push) {}

  // Records one event and updates the output (at most ~10 redraws per second on a terminal).
  void Update(const BlobProgress& progress);

  // Draws the final state (call once, when the transfer ends).
  void Finish();

  // One line for a blob, e.g. "a1b8b9dfec5c: Downloading [=====>    ]  1.2MB/10.5MB"; without
  // the bar and byte counts when `with_bar` is false (plain output).
  static std::string Line(const BlobProgress& progress, bool is_push, bool with_bar = true);

 private:
  LiveLines lines_;
  const bool is_push_;
};

// True when file descriptor `fd` is a terminal (and TERM is not "dumb").
bool IsTerminal(int fd);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_PROGRESS_PRINTER_H_
