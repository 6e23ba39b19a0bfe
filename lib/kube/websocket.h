// A client WebSocket over TLS to the API server, for port-forward: binary messages out (queued,
// written in order) and in (handed to a handler on the connection's own thread). On Boost.Beast,
// which comes with the Boost headers cpprestsdk already needs: cpprestsdk's own WebSocket client
// refuses the subprotocol "SPDY/3.1+portforward.k8s.io" (a '/' is no token character to
// websocketpp) and cannot show why an upgrade was refused. Internal to lib/kube.
#ifndef KIM_LIB_KUBE_WEBSOCKET_H_
#define KIM_LIB_KUBE_WEBSOCKET_H_

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"

namespace kim::kube {

// What to connect to.
struct WebSocketOptions {
  std::string server;        // https://host:port (the kubeconfig's)
  std::string target;        // "/api/v1/...?..."
  std::string subprotocol;   // offered in Sec-WebSocket-Protocol
  StreamingAccess access;    // credentials and TLS set-up (Client::Streaming)
  absl::Duration connect_timeout = absl::Seconds(10);
};

// The server's answer when it refused the upgrade.
struct UpgradeRefusal {
  int http_status = 0;  // 0 when no HTTP answer came (connection or TLS failure)
  std::string body;     // a metav1.Status from the API server, usually
};

class WebSocket {
 public:
  // Called with each binary message; runs on the connection's thread, so it must not wait for
  // Send to complete.
  using MessageHandler = std::function<void(std::string_view)>;
  // Called once when the connection ends, with why.
  using CloseHandler = std::function<void(const std::string&)>;

  // Connects, completes TLS and the WebSocket handshake (the server must accept the
  // subprotocol), then starts reading. Unavailable on failure; `refusal`, when given, gets the
  // server's HTTP answer.
  static absl::StatusOr<std::unique_ptr<WebSocket>> Connect(const WebSocketOptions& options,
                                                            MessageHandler on_message,
                                                            CloseHandler on_close,
                                                            UpgradeRefusal* refusal = nullptr);
  // Closes the connection and waits for its thread.
  virtual ~WebSocket() = default;

  // Queues one binary message; the future says whether it was written.
  virtual std::future<bool> Send(std::string message) = 0;
  // Starts closing (the close handler then runs); no further messages are sent.
  virtual void Close() = 0;
};

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_WEBSOCKET_H_
