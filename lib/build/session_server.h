// The gRPC server a build client runs inside its BuildKit session. buildkitd is the HTTP/2
// client and speaks gRPC to us over the bytes of one Control.Session stream; this server decodes
// that HTTP/2 with nghttp2 directly on those bytes (no socket, no second gRPC stack) and runs
// each call's handler on its own thread. Small responses from many calls leave together in one
// batch of frames, which is what makes sending 20,000 small files cheap.
#ifndef KIM_LIB_BUILD_SESSION_SERVER_H_
#define KIM_LIB_BUILD_SESSION_SERVER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/message_lite.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

struct nghttp2_session;

namespace kim::build {

// The byte stream the server's HTTP/2 connection runs on (the Session stream, or a socket in
// tests). Read and Write are each called from one thread only, never concurrently with themselves.
class SessionByteStream {
 public:
  virtual ~SessionByteStream() = default;
  // Replaces `bytes` with the next bytes from the client; false at the end of the stream.
  virtual bool Read(std::string* bytes) = 0;
  // Sends `bytes` to the client; false when the stream is broken.
  virtual bool Write(std::string bytes) = 0;
  // Tells the client we will send nothing more (a half-close).
  virtual void CloseWrite() = 0;
  // Breaks the stream so that a blocked Read returns (used when the client does not hang up).
  virtual void Abort() = 0;
};

class SessionServer;
struct SessionCallState;

// One call in progress, as its handler sees it.
class SessionCall {
 public:
  SessionCall(SessionServer* server, std::shared_ptr<SessionCallState> state);

  // The full method name, "/package.Service/Method".
  const std::string& method() const;
  // The values of request metadata `key` (lowercase), in the order sent.
  std::vector<std::string> Metadata(absl::string_view key) const;
  // Reads the next request message; false at the end of the requests, when a message does not
  // parse, or once the call is cancelled.
  bool Read(google::protobuf::MessageLite* message);
  // Queues one response message, waiting while much is queued already; false once the call is
  // cancelled or the session is gone.
  bool Write(const google::protobuf::MessageLite& message);
  // Whether the client cancelled the call or the session ended.
  bool IsCancelled() const;
  // Waits until the call is cancelled or `timeout` passes; returns IsCancelled().
  bool WaitCancelled(std::chrono::milliseconds timeout);

 private:
  SessionServer* server_;
  std::shared_ptr<SessionCallState> state_;
};

// Serves one method; the returned status (code and message) becomes the call's grpc-status.
using SessionHandler = std::function<absl::Status(SessionCall&)>;

// A served method: its full name and its handler.
struct SessionMethod {
  std::string name;
  SessionHandler handler;
};

// The HTTP/2 + gRPC server on a SessionByteStream.
class SessionServer {
 public:
  SessionServer(SessionByteStream* stream, std::vector<SessionMethod> methods);
  ~SessionServer();
  SessionServer(const SessionServer&) = delete;
  SessionServer& operator=(const SessionServer&) = delete;

  // Starts reading requests and sending responses.
  void Start();
  // Sends what is queued, half-closes the stream, waits up to `grace` for the client to hang up
  // (then aborts the stream), cancels the calls still running and waits for their handlers.
  // Idempotent; also run by the destructor.
  void Stop(std::chrono::milliseconds grace);

 private:
  friend class SessionCall;
  friend struct SessionCallbacks;

  void ReadLoop();
  void WriteLoop();
  void WakeWriter();                       // mu_ held
  void CancelAll();                        // mu_ held
  void Dispatch(const std::shared_ptr<SessionCallState>& call);  // mu_ held
  void Finish(const std::shared_ptr<SessionCallState>& call, const absl::Status& status);
  void ReapHandlers();                     // mu_ not held
  void ConsumeLocked(SessionCallState& call);  // mu_ held: reopens flow-control window

  SessionByteStream* const stream_;
  std::map<std::string, SessionHandler> methods_;
  nghttp2_session* session_ = nullptr;

  std::mutex mu_;
  std::condition_variable writer_cv_;
  std::condition_variable reader_done_cv_;
  std::map<int32_t, std::shared_ptr<SessionCallState>> calls_;
  std::map<uint64_t, std::thread> handlers_;
  std::vector<uint64_t> finished_handlers_;
  uint64_t next_handler_ = 0;
  bool want_write_ = false;
  bool stopping_ = false;
  bool reader_done_ = false;
  bool broken_ = false;
  bool started_ = false;
  bool stopped_ = false;
  std::thread reader_, writer_;
};

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_SESSION_SERVER_H_
