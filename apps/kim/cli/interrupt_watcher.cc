// InterruptWatcher: a sigwait thread, woken with SIGUSR2 when the command ends.
#include "apps/kim/cli/interrupt_watcher.h"

#include <pthread.h>
#include <unistd.h>

namespace kim::cli {

InterruptWatcher::InterruptWatcher(std::function<void()> on_interrupt) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGUSR2);  // wakes the watcher up at the end
  pthread_sigmask(SIG_BLOCK, &set_, &old_);
  thread_ = std::thread([this, on_interrupt = std::move(on_interrupt)] {
    while (true) {
      int signal = 0;
      if (sigwait(&set_, &signal) != 0 || signal == SIGUSR2) return;
      if (interrupted_.exchange(true)) _exit(kExitInterrupted);
      on_interrupt();
    }
  });
}

InterruptWatcher::~InterruptWatcher() {
  pthread_kill(thread_.native_handle(), SIGUSR2);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

}  // namespace kim::cli
