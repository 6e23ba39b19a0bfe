// CallWatch: ServerContext::IsCancelled is thread-safe for synchronous servers.
#include "lib/images/call_watch.h"

#include "absl/time/time.h"

namespace kim {

CallWatch::CallWatch(grpc::ServerContext* context)
    : thread_([this, context] {
        while (!done_.WaitForNotificationWithTimeout(absl::Milliseconds(50))) {
          if (context->IsCancelled()) {
            cancellation_.Cancel();
            return;
          }
        }
      }) {}

CallWatch::~CallWatch() {
  done_.Notify();
  thread_.join();
}

}  // namespace kim
