// Build progress as buildx shows it: `plain` prints one line per event ("#3 [2/3] RUN make",
// "#3 0.412 output", "#3 DONE 1.2s"); `tty` redraws a live view (steps with timers, the running
// ones expanded with the tail of their output); `rawjson` prints each event as a JSON object;
// `quiet` prints nothing.
#ifndef KIM_APPS_KIM_OUTPUT_BUILD_PROGRESS_H_
#define KIM_APPS_KIM_OUTPUT_BUILD_PROGRESS_H_

#include <condition_variable>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "kim/build_service.h"

namespace kim::cli {

class BuildProgress {
 public:
  enum class Mode { kPlain, kTty, kQuiet, kRawJson };

  // `now` is injectable for tests (the TTY timer and durations of running steps). In kTty mode a
  // background thread redraws about ten times a second until Finish.
  BuildProgress(std::ostream& out, Mode mode, std::function<absl::Time()> now = absl::Now);
  ~BuildProgress();

  // Records one event and prints what it changes. Thread-safe.
  void Update(const BuildEvent& event);
  // Prints the final state (TTY: the last frame). Call once when the build ended.
  void Finish();

  // The mode for a --progress value: auto/tty pick kTty on a terminal, else kPlain.
  static Mode ModeFor(const std::string& flag, bool terminal);

 private:
  struct Progress {
    std::string id, name;
    int64_t current = 0, total = 0;
    std::optional<absl::Time> started, completed;
  };
  struct Step {
    int index = 0;  // "#N"; 0 until printed
    std::string digest, name;
    bool cached = false;
    std::optional<absl::Time> started, completed;
    std::string error;
    bool header_printed = false, done_printed = false;
    std::vector<Progress> progress;   // in order of appearance
    std::vector<std::string> log_lines;
    std::string partial_line;
    size_t first_seen = 0;
  };

  void Plain(const BuildEvent& event, Step& step);
  void PlainHeader(Step& step);
  void PlainLine(Step& step, const std::string& text);
  void FlushPendingDone(const std::string& unless);
  void RawJson(const BuildEvent& event);
  void Draw(bool final);
  void Ticker();

  std::ostream& out_;
  const Mode mode_;
  std::function<absl::Time()> now_;
  std::mutex mu_;
  std::map<std::string, Step> steps_;
  std::vector<std::string> order_;  // digests in order of first appearance
  std::vector<std::string> warnings_;
  int next_index_ = 1;
  std::string last_printed_;
  std::string pending_done_;  // a completed step whose DONE line is still to print  // digest of the last plain line's step
  absl::Time start_;
  size_t lines_drawn_ = 0;
  bool finished_ = false;
  std::condition_variable cv_;
  std::thread ticker_;
};

// "2.10kB" style sizes and "1.2s" style durations used in the progress lines.
std::string ProgressAmount(const std::string& name, int64_t current, int64_t total);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_BUILD_PROGRESS_H_
