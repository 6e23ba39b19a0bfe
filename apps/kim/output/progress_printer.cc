// Progress rendering.
#include "apps/kim/output/progress_printer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "kim/digest.h"
#include "kim/units.h"

namespace kim::cli {
namespace {

constexpr int kBarWidth = 50;

std::string Bar(int64_t offset, int64_t total) {
  const int filled = total > 0 ? static_cast<int>(kBarWidth * std::min(offset, total) / total) : 0;
  std::string bar = "[" + std::string(filled, '=');
  if (filled < kBarWidth) bar += ">" + std::string(kBarWidth - filled - 1, ' ');
  return bar + "]";
}

}  // namespace

bool IsTerminal(int fd) {
  const char* term = std::getenv("TERM");
  return isatty(fd) == 1 && (term == nullptr || std::strcmp(term, "dumb") != 0);
}

std::string ProgressPrinter::Line(const BlobProgress& progress, bool is_push, bool with_bar) {
  std::string line = absl::StrCat(ShortImageId(progress.digest), ": ",
                                   TransferStateName(progress.state, is_push));
  if (with_bar && progress.state == TransferState::kTransferring && progress.total > 0) {
    // Docker's layout: the bar, then the bytes so far right-aligned in 8 columns.
    absl::StrAppend(&line, " ", Bar(progress.offset, progress.total), " ",
                    absl::StrFormat("%8s/%s", HumanSize(static_cast<double>(progress.offset)),
                                    HumanSize(static_cast<double>(progress.total))));
  }
  return line;
}

void ProgressPrinter::Update(const BlobProgress& progress) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = std::find_if(blobs_.begin(), blobs_.end(),
                         [&](const BlobProgress& b) { return b.digest == progress.digest; });
  const bool state_changed = it == blobs_.end() || it->state != progress.state;
  if (it == blobs_.end()) {
    blobs_.push_back(progress);
  } else {
    *it = progress;
  }
  if (!tty_) {
    // Plain output: one line when a blob changes state, never one per byte count.
    if (state_changed) out_ << Line(progress, is_push_, /*with_bar=*/false) << "\n" << std::flush;
    return;
  }
  const absl::Time now = absl::Now();
  if (state_changed || now - last_draw_ > absl::Milliseconds(100)) {
    last_draw_ = now;
    Redraw();
  }
}

void ProgressPrinter::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (tty_) Redraw();
}

void ProgressPrinter::Redraw() {
  // Move up over what was drawn before, then rewrite every line (clearing its remainder).
  if (lines_drawn_ > 0) out_ << "\033[" << lines_drawn_ << "A";
  for (const BlobProgress& blob : blobs_) out_ << "\033[2K\r" << Line(blob, is_push_) << "\n";
  lines_drawn_ = blobs_.size();
  out_ << std::flush;
}

}  // namespace kim::cli
