// PortForward: a loopback listener whose connections are relayed through one SPDY tunnel (the
// API server's WebSocket tunnelling, 1.31+), or, where the API server has none, each through
// its own PortForwardStream (the WebSocket channel protocol). Start opens the tunnel, or the
// first stream, so that refusals show there.
#include "lib/kube/port_forward.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "kim/log.h"
#include "lib/kube/port_forward_stream.h"
#include "lib/kube/spdy_tunnel.h"

namespace kim::kube {
namespace {

class LoopbackPortForward : public PortForward {
 public:
  LoopbackPortForward(std::shared_ptr<Client> client, PortForwardOptions options, int listener,
                      int local_port)
      : client_(std::move(client)), options_(std::move(options)), listener_(listener),
        local_port_(local_port) {}

  ~LoopbackPortForward() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      if (spdy_ != nullptr) spdy_->Abort();
      for (Connection& connection : connections_) {
        if (connection.stream) connection.stream->Abort();
      }
    }
    shutdown(listener_, SHUT_RDWR);  // ends accept()
    if (acceptor_.joinable()) acceptor_.join();
    close(listener_);
    std::list<Connection> connections;
    {
      std::lock_guard<std::mutex> lock(mu_);
      connections.swap(connections_);
    }
    for (Connection& connection : connections) connection.thread.join();
  }

  std::string local_address() const override { return absl::StrCat("127.0.0.1:", local_port_); }

  // Opens the SPDY tunnel, else the first channel stream, and starts accepting.
  absl::Status Start() {
    auto tunnel = SpdyTunnel::Open(*client_, options_, ErrorTextHandler());
    if (tunnel.ok()) {
      spdy_ = *std::move(tunnel);
    } else {
      const absl::Status& status = tunnel.status();
      if (absl::IsPermissionDenied(status) || absl::IsNotFound(status) ||
          absl::IsUnauthenticated(status)) {
        return status;
      }
      LogDebug(0, absl::StrCat("tunnel: no SPDY tunnelling (", status.message(),
                               "); one WebSocket per connection instead"));
      auto first = OpenStream();
      if (!first.ok()) return first.status();
      spare_ = *std::move(first);
    }
    acceptor_ = std::thread([this] { AcceptLoop(); });
    return absl::OkStatus();
  }

 private:
  struct Connection {
    std::shared_ptr<PortForwardStream> stream;  // null while it is being opened
    std::thread thread;
    bool done = false;
  };

  PortForwardStream::ErrorTextHandler ErrorTextHandler() {
    return [this](const std::string& text) {
      LogDebug(0, absl::StrCat("tunnel: ", options_.pod, ":", options_.port, ": ", text));
    };
  }

  absl::StatusOr<std::unique_ptr<PortForwardStream>> OpenStream() {
    return PortForwardStream::Open(*client_, options_, ErrorTextHandler());
  }

  // The SPDY tunnel for a new connection: the open one, or a new one when it has closed (the
  // API server or kubelet restarted); null when there is none.
  std::shared_ptr<SpdyTunnel> Tunnel() {
    std::shared_ptr<SpdyTunnel> tunnel;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (spdy_ == nullptr || stopping_) return nullptr;
      if (spdy_->alive()) return spdy_;
    }
    auto reopened = SpdyTunnel::Open(*client_, options_, ErrorTextHandler());
    std::lock_guard<std::mutex> lock(mu_);
    if (!reopened.ok()) {
      LogDebug(0, absl::StrCat("tunnel: cannot reopen: ", reopened.status().message()));
      return nullptr;
    }
    spdy_ = *std::move(reopened);
    if (stopping_) spdy_->Abort();
    return spdy_;
  }

  void AcceptLoop() {
    while (true) {
      int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0 && (errno == EINTR || errno == ECONNABORTED)) continue;
      std::lock_guard<std::mutex> lock(mu_);
      if (fd < 0 || stopping_) {
        if (fd >= 0) close(fd);
        return;
      }
      const int one = 1;  // small messages (HTTP/2 window updates, acks) must not wait for Nagle
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ReapFinished();
      connections_.emplace_back();
      Connection* connection = &connections_.back();
      std::unique_ptr<PortForwardStream> spare = std::move(spare_);
      connection->thread = std::thread([this, connection, fd, spare = std::move(spare)]() mutable {
        Serve(*connection, fd, std::move(spare));
      });
    }
  }

  // Relays one local connection, through the spare stream when there is one, else a new one.
  void Serve(Connection& connection, int fd, std::unique_ptr<PortForwardStream> stream) {
    if (bool spdy = [&] { std::lock_guard<std::mutex> lock(mu_); return spdy_ != nullptr; }(); spdy) {
      if (std::shared_ptr<SpdyTunnel> tunnel = Tunnel()) {
        tunnel->Relay(fd);
      } else {
        close(fd);
      }
      std::lock_guard<std::mutex> lock(mu_);
      connection.done = true;
      return;
    }
    if (stream == nullptr) {
      auto opened = OpenStream();
      if (!opened.ok()) {
        LogDebug(0, absl::StrCat("tunnel: ", opened.status().message()));
        std::lock_guard<std::mutex> lock(mu_);
        close(fd);
        connection.done = true;
        return;
      }
      stream = *std::move(opened);
    }
    std::shared_ptr<PortForwardStream> shared(std::move(stream));
    {
      std::lock_guard<std::mutex> lock(mu_);
      connection.stream = shared;
      if (stopping_) shared->Abort();
    }
    shared->Relay(fd);
    std::lock_guard<std::mutex> lock(mu_);
    connection.done = true;
  }

  // Joins the threads of connections that ended (mu_ held; their threads no longer take it).
  void ReapFinished() {
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (it->done) {
        it->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }

  const std::shared_ptr<Client> client_;
  const PortForwardOptions options_;
  const int listener_;
  const int local_port_;
  mutable std::mutex mu_;
  std::shared_ptr<SpdyTunnel> spdy_;  // all connections go through it when there is one
  std::unique_ptr<PortForwardStream> spare_;  // else: opened by Start, used by the first connection
  std::list<Connection> connections_;
  std::thread acceptor_;
  bool stopping_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PortForward>> PortForward::Start(
    std::shared_ptr<Client> client, const PortForwardOptions& options) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) {
    return absl::InternalError(absl::StrCat("cannot open a local socket: ", strerror(errno)));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listener, 16) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = strerror(errno);
    close(listener);
    return absl::InternalError(absl::StrCat("cannot listen on 127.0.0.1 for the tunnel: ", error));
  }
  auto forward = std::make_unique<LoopbackPortForward>(std::move(client), options, listener,
                                                       ntohs(address.sin_port));
  if (absl::Status status = forward->Start(); !status.ok()) return status;
  return std::unique_ptr<PortForward>(std::move(forward));
}

}  // namespace kim::kube
