// SpdyTunnel on WebSocket (websocket.h) and spdy_frames.
#include "lib/kube/spdy_tunnel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kim/log.h"
#include "lib/kube/socket_io.h"
#include "lib/kube/spdy_frames.h"

namespace kim::kube {
namespace {

// Bytes per DATA frame, and frames handed over and not yet written, per stream. Measured on the
// lab (bench/run tunnel, 1 GB context): 128 KiB frames with 4 MiB in flight beat 1 MiB frames
// by a quarter (the node's runtime stores each whole frame before it forwards it, and kim's
// copies stay in the CPU caches).
constexpr size_t kChunk = 128 * 1024;
constexpr size_t kSendWindow = 32;

// One forwarded connection: its two SPDY streams and the local socket.
struct Stream {
  uint32_t error_id = 0, data_id = 0;
  std::mutex fd_mu;  // held while the message thread writes to or shuts down fd
  int fd = -1;
  bool remote_done = false;  // the node ended the data stream (FIN or RST); guarded by the tunnel
};

class BeastSpdyTunnel : public SpdyTunnel {
 public:
  BeastSpdyTunnel(const PortForwardOptions& options,
                  PortForwardStream::ErrorTextHandler on_error_text)
      : options_(options), on_error_text_(std::move(on_error_text)) {}

  ~BeastSpdyTunnel() override { socket_.reset(); }

  absl::Status Connect(const WebSocketOptions& request) {
    UpgradeRefusal refusal;
    auto socket = WebSocket::Connect(
        request, [this](std::string_view message) { OnMessage(message); },
        [this](const std::string& why) { OnClose(why); }, &refusal);
    if (!socket.ok()) {
      LogDebug(0, absl::StrCat("tunnel: SPDY: ", socket.status().message()));
      return DescribeRefusal(options_, refusal, socket.status());
    }
    socket_ = *std::move(socket);
    // A PING round trip proves that the node's runtime speaks SPDY at the other end.
    Fire(spdy::FrameWriter::Ping(1));
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.connect_timeout),
                      [this] { return closed_ || pinged_; }) ||
        !pinged_) {
      return absl::UnavailableError(absl::StrCat(
          "cannot open a tunnel to ", DescribeTarget(options_), " through the API server: the "
          "SPDY session did not answer"));
    }
    return absl::OkStatus();
  }

  void Relay(int fd) override {
    auto stream = Register(fd);
    if (stream == nullptr) {
      close(fd);
      return;
    }
    std::deque<std::future<bool>> in_flight;
    bool local_eof = false;
    while (true) {
      std::string frame(spdy::kDataHeaderSize + kChunk, '\0');
      ssize_t n = recv(fd, frame.data() + spdy::kDataHeaderSize, kChunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        local_eof = n == 0;
        break;
      }
      std::string header;
      spdy::FrameWriter::AppendDataHeader(header, stream->data_id, 0, static_cast<uint32_t>(n));
      std::memcpy(frame.data(), header.data(), header.size());
      frame.resize(spdy::kDataHeaderSize + static_cast<size_t>(n));
      if (!SendWindowed(*socket_, std::move(frame), in_flight, kSendWindow)) break;
    }
    for (auto& sent : in_flight) sent.wait();
    Finish(*stream, local_eof);
  }

  void Abort() override {
    std::lock_guard<std::mutex> lock(mu_);
    aborted_ = true;
    ShutdownAll();
  }

  bool alive() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return !closed_ && !aborted_;
  }

 private:
  // Opens the stream pair of a new connection (the error stream half-closed at once, as
  // kubectl does) and records it; null when the session is gone.
  std::shared_ptr<Stream> Register(int fd) {
    auto stream = std::make_shared<Stream>();
    stream->fd = fd;
    std::lock_guard<std::mutex> send_lock(send_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_ || aborted_) return nullptr;
      stream->error_id = next_stream_id_;
      stream->data_id = next_stream_id_ + 2;
      next_stream_id_ += 4;
      streams_[stream->error_id] = stream;
      streams_[stream->data_id] = stream;
    }
    const std::string request_id = std::to_string(next_request_id_++);
    const std::string port = std::to_string(options_.port);
    Fire(writer_.SynStream(stream->error_id, {{"streamtype", "error"},
                                              {"port", port},
                                              {"requestid", request_id}}));
    Fire(spdy::FrameWriter::EmptyData(stream->error_id, spdy::kFlagFin));
    Fire(writer_.SynStream(stream->data_id, {{"streamtype", "data"},
                                             {"port", port},
                                             {"requestid", request_id}}));
    return stream;
  }

  // Ends a connection. When the local side ended, our half-close, then the node's answers are
  // still delivered until it ends too (it closes the pod's end and sends its FIN after
  // containerd's one-second grace) or the tunnel is aborted, which is what happens first when
  // the process is done with it; otherwise a reset. Then the local socket; frames for the
  // streams that come later are dropped.
  void Finish(Stream& stream, bool local_eof) {
    if (local_eof) {
      Fire(spdy::FrameWriter::EmptyData(stream.data_id, spdy::kFlagFin));
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(30),
                   [&] { return stream.remote_done || closed_ || aborted_; });
    }
    bool remote_done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      remote_done = stream.remote_done || closed_;
      streams_.erase(stream.error_id);
      streams_.erase(stream.data_id);
    }
    if (!remote_done) Fire(spdy::FrameWriter::RstStream(stream.data_id, spdy::kStatusCancel));
    shutdown(stream.fd, SHUT_RDWR);  // unblocks a write of the message thread
    std::lock_guard<std::mutex> fd_lock(stream.fd_mu);
    close(stream.fd);
    stream.fd = -1;
  }

  // Sends a control frame without waiting (the message thread must never wait on a send).
  void Fire(std::string frame) { socket_->Send(std::move(frame)); }

  void OnMessage(std::string_view bytes) {
    absl::Status status = reader_.Feed(bytes, [this](spdy::Frame& frame) { OnFrame(frame); });
    if (!status.ok()) {
      LogDebug(0, absl::StrCat("tunnel: not a SPDY session: ", status.message()));
      Abort();
    }
  }

  void OnFrame(spdy::Frame& frame) {
    if (frame.control && LogEnabled(2)) {
      LogDebug(2, absl::StrCat("tunnel: SPDY control frame ", frame.type, " flags ", frame.flags,
                               " stream ", frame.stream_id, " value ", frame.value));
    }
    if (frame.control && frame.type == spdy::kPing) {
      if (frame.value % 2 == 0) {
        Fire(spdy::FrameWriter::Ping(frame.value));  // the node's ping: answer it
      } else {
        std::lock_guard<std::mutex> lock(mu_);
        pinged_ = true;
        cv_.notify_all();
      }
      return;
    }
    if (frame.control && frame.type == spdy::kGoAway) {
      OnClose("the node ended the SPDY session (GOAWAY)");
      return;
    }
    const bool data = !frame.control;
    const bool reset = frame.control && frame.type == spdy::kRstStream;
    if (!data && !reset) return;  // SYN_REPLY, SETTINGS, WINDOW_UPDATE, HEADERS
    std::shared_ptr<Stream> stream;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto found = streams_.find(frame.stream_id);
      if (found == streams_.end()) return;
      stream = found->second;
    }
    if (frame.stream_id == stream->error_id) {
      if (data && !frame.data.empty()) {
        LogDebug(0, absl::StrCat("tunnel: the node says: ", frame.data));
        if (on_error_text_) on_error_text_(frame.data);
      }
      if (!reset) return;
    }
    const bool fin = reset || (frame.flags & spdy::kFlagFin) != 0;
    {
      std::lock_guard<std::mutex> fd_lock(stream->fd_mu);
      if (stream->fd >= 0) {
        if (data && !frame.data.empty() &&
            !WriteAll(stream->fd, frame.data.data(), frame.data.size())) {
          shutdown(stream->fd, SHUT_RDWR);
        }
        if (fin) shutdown(stream->fd, reset ? SHUT_RDWR : SHUT_WR);
      }
    }
    if (fin) {
      std::lock_guard<std::mutex> lock(mu_);
      stream->remote_done = true;
      cv_.notify_all();
    }
  }

  void OnClose(const std::string& why) {
    LogDebug(1, absl::StrCat("tunnel: SPDY session closed: ", why));
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    ShutdownAll();
  }

  // mu_ held. Without fd_mu (a blocked write holds it): a stream still listed has its socket open, as
  // Finish closes it only after taking it off the list.
  void ShutdownAll() {
    for (auto& [id, stream] : streams_) shutdown(stream->fd, SHUT_RDWR);
    cv_.notify_all();
  }

  const PortForwardOptions options_;
  const PortForwardStream::ErrorTextHandler on_error_text_;
  std::unique_ptr<WebSocket> socket_;
  std::mutex send_mu_;  // the header-compression stream and stream ids go out in order
  spdy::FrameWriter writer_;
  uint32_t next_stream_id_ = 1;
  uint64_t next_request_id_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint32_t, std::shared_ptr<Stream>> streams_;  // by error and data stream id
  bool closed_ = false, aborted_ = false, pinged_ = false;
  spdy::FrameReader reader_;  // the message thread's
};

}  // namespace

absl::StatusOr<std::shared_ptr<SpdyTunnel>> SpdyTunnel::Open(
    Client& client, const PortForwardOptions& options,
    PortForwardStream::ErrorTextHandler on_error_text) {
  auto request = PortForwardRequest(client, options, "SPDY/3.1+portforward.k8s.io", false);
  if (!request.ok()) return request.status();
  auto tunnel = std::make_shared<BeastSpdyTunnel>(options, std::move(on_error_text));
  if (absl::Status status = tunnel->Connect(*request); !status.ok()) return status;
  return std::shared_ptr<SpdyTunnel>(std::move(tunnel));
}

}  // namespace kim::kube
