// InterruptWatcher: Ctrl-C (SIGINT) and SIGTERM turned into a cancellation of the running
// command's work, the way the Docker CLI stops a build, pull or push.
#ifndef KIM_APPS_KIM_CLI_INTERRUPT_WATCHER_H_
#define KIM_APPS_KIM_CLI_INTERRUPT_WATCHER_H_

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace kim::cli {

// Blocks SIGINT and SIGTERM in every thread started from here on and runs `on_interrupt` (in
// its own thread) on the first; a second one exits at once with status 130. Create it before
// any other thread.
class InterruptWatcher {
 public:
  explicit InterruptWatcher(std::function<void()> on_interrupt);
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;
  ~InterruptWatcher();

  // True once a signal arrived.
  bool interrupted() const { return interrupted_; }

  // The exit status of an interrupted command (128 + SIGINT), as shells report it.
  static constexpr int kExitInterrupted = 130;

 private:
  sigset_t set_, old_;
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_CLI_INTERRUPT_WATCHER_H_
