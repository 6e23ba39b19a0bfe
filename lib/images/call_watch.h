// CallWatch: turns the cancellation of a server call (the client cancelled, went away, or its
// deadline passed) into a kim::Cancellation that the image service's work watches. Internal.
#ifndef KIM_LIB_IMAGES_CALL_WATCH_H_
#define KIM_LIB_IMAGES_CALL_WATCH_H_

#include <grpcpp/server_context.h>

#include <thread>

#include "absl/synchronization/notification.h"
#include "kim/cancellation.h"

namespace kim {

// Watches one call for as long as it lives (a thread checks the call every 50 ms). Not
// copyable; destroy it before the handler returns.
class CallWatch {
 public:
  explicit CallWatch(grpc::ServerContext* context);
  CallWatch(const CallWatch&) = delete;
  CallWatch& operator=(const CallWatch&) = delete;
  ~CallWatch();

  // Cancelled once the call is.
  Cancellation* cancellation() { return &cancellation_; }

 private:
  Cancellation cancellation_;
  absl::Notification done_;
  std::thread thread_;
};

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CALL_WATCH_H_
