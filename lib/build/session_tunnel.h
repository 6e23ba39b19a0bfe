// The BuildKit session: a Control.Session stream carrying HTTP/2 in which buildkitd is the gRPC
// client and we are the server. The stream's bytes feed a SessionServer directly.
#ifndef KIM_LIB_BUILD_SESSION_TUNNEL_H_
#define KIM_LIB_BUILD_SESSION_TUNNEL_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "lib/build/session_server.h"
#include "moby/buildkit/v1/control.grpc.pb.h"

namespace kim::build {

class SessionTunnel {
 public:
  // Opens the session `id` (name: free text shown by the daemon) serving `methods`, which are
  // announced in the stream's metadata. The daemon registers the session once it has read that
  // metadata; Solve may be started right away (it waits up to 5 s for the session).
  static absl::StatusOr<std::unique_ptr<SessionTunnel>> Open(
      moby::buildkit::v1::Control::Stub* control, const std::string& id, const std::string& name,
      std::vector<SessionMethod> methods);

  // Ends the session cleanly (half-closes our side, lets the daemon close its side, then stops
  // the calls still running). Idempotent; also run by the destructor.
  void Close();
  ~SessionTunnel();

 private:
  class Stream;
  SessionTunnel() = default;

  grpc::ClientContext context_;
  std::unique_ptr<Stream> stream_;
  std::unique_ptr<SessionServer> server_;
  bool closed_ = false;
};

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_SESSION_TUNNEL_H_
