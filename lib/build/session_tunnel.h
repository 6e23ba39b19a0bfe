// The BuildKit session: a Control.Session stream carrying HTTP/2 in which buildkitd is the gRPC
// client and we are the server. The stream is bridged to one end of a socketpair whose other end
// an in-process gRPC server (with no listening port) serves the attachables on.
#ifndef KIM_LIB_BUILD_SESSION_TUNNEL_H_
#define KIM_LIB_BUILD_SESSION_TUNNEL_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "moby/buildkit/v1/control.grpc.pb.h"

namespace kim::build {

class SessionTunnel {
 public:
  // Opens the session `id` (name: free text shown by the daemon) serving `services`, whose
  // methods are announced as `methods`. The daemon registers the session once it has read the
  // stream's metadata; Solve may be started right away (it waits up to 5 s for the session).
  static absl::StatusOr<std::unique_ptr<SessionTunnel>> Open(
      moby::buildkit::v1::Control::Stub* control, const std::string& id, const std::string& name,
      std::vector<std::unique_ptr<grpc::Service>> services, const std::vector<std::string>& methods);

  // Ends the session cleanly (half-closes our side, lets the daemon close its side, then stops
  // the server). Idempotent; also run by the destructor.
  void Close();
  ~SessionTunnel();

 private:
  SessionTunnel() = default;
  void PumpUp();    // socketpair -> Session.Write
  void PumpDown();  // Session.Read -> socketpair

  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> server_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<moby::buildkit::v1::BytesMessage,
                                           moby::buildkit::v1::BytesMessage>> stream_;
  int bridge_fd_ = -1;
  std::thread up_, down_;
  std::mutex mu_;
  std::condition_variable down_done_cv_;
  bool down_done_ = false;
  bool closed_ = false;
};

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_SESSION_TUNNEL_H_
