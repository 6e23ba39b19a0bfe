// Progress lines redrawn in place, or printed once per change.
#include "apps/kim/output/live_lines.h"

#include <algorithm>
#include <ostream>

#include "absl/time/clock.h"

namespace kim::cli {

void LiveLines::Set(const std::string& key, const std::string& state, const std::string& full,
                    const std::string& plain) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = std::find_if(lines_.begin(), lines_.end(), [&](const Line& l) { return l.key == key; });
  const bool state_changed = it == lines_.end() || it->state != state;
  if (it == lines_.end()) {
    lines_.push_back({key, state, full});
  } else {
    it->state = state;
    it->text = full;
  }
  if (!tty_) {
    // Plain output: one line when something changes state, never one per byte count.
    if (state_changed) out_ << plain << "\n" << std::flush;
    return;
  }
  const absl::Time now = absl::Now();
  if (state_changed || now - last_draw_ > absl::Milliseconds(100)) {
    last_draw_ = now;
    Redraw();
  }
}

void LiveLines::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (tty_) Redraw();
}

void LiveLines::Redraw() {
  // Move up over what was drawn before, then rewrite every line (clearing its remainder).
  if (lines_drawn_ > 0) out_ << "\033[" << lines_drawn_ << "A";
  for (const Line& line : lines_) out_ << "\033[2K\r" << line.text << "\n";
  lines_drawn_ = lines_.size();
  out_ << std::flush;
}

std::string ProgressBar(int64_t done, int64_t total, int width) {
  const int filled = total > 0 ? static_cast<int>(width * std::min(done, total) / total) : 0;
  std::string bar = "[" + std::string(filled, '=');
  if (filled < width) bar += ">" + std::string(width - filled - 1, ' ');
  return bar + "]";
}

}  // namespace kim::cli
