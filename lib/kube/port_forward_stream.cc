// PortForwardStream on WebSocket (websocket.h), and the helpers it shares with the SPDY tunnel.
#include "lib/kube/port_forward_stream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <regex>

#include <cpprest/base_uri.h>

#include "absl/strings/str_cat.h"
#include "kim/log.h"
#include "lib/kube/socket_io.h"

namespace kim::kube {

std::string DescribeTarget(const PortForwardOptions& options) {
  return absl::StrCat("pod \"", options.pod, "\" in namespace \"", options.namespace_name,
                      "\" (port ", options.port, ")");
}

absl::Status DescribeRefusal(const PortForwardOptions& options, const UpgradeRefusal& refusal,
                             const absl::Status& error) {
  const std::string prefix =
      absl::StrCat("cannot open a tunnel to ", DescribeTarget(options), " through the API server: ");
  std::string message = refusal.body.substr(0, 300);
  try {
    Json status = Json::parse(refusal.body);
    if (std::string text = JsonString(status, {"message"}); !text.empty()) message = text;
  } catch (const std::exception&) {
  }
  switch (refusal.http_status) {
    case 403: {
      std::smatch match;
      std::string user = "?";
      if (std::regex_search(message, match, std::regex("User \"([^\"]*)\""))) user = match[1];
      return absl::PermissionDeniedError(absl::StrCat(
          prefix, "forbidden for user \"", user, "\" (needs RBAC verbs \"get\" and \"create\" on "
          "\"pods/portforward\" in namespace \"", options.namespace_name, "\")"));
    }
    case 404:
      return absl::NotFoundError(absl::StrCat(
          prefix, "the pod is gone (is the builder restarting? see \"kim system info\")"));
    case 401:
      return absl::UnauthenticatedError(absl::StrCat(
          prefix, "unauthorized: the server did not accept the kubeconfig's credentials"));
    case 0:
      return absl::UnavailableError(absl::StrCat(prefix, error.message()));
    default:
      return absl::UnavailableError(
          absl::StrCat(prefix, "HTTP ", refusal.http_status, ": ", message));
  }
}

absl::StatusOr<WebSocketOptions> PortForwardRequest(Client& client,
                                                    const PortForwardOptions& options,
                                                    const std::string& subprotocol,
                                                    bool ports_query) {
  auto access = client.Streaming();
  if (!access.ok()) return access.status();
  WebSocketOptions request;
  request.server = access->server;
  request.access = *std::move(access);
  request.subprotocol = subprotocol;
  request.connect_timeout = options.connect_timeout;
  request.target = absl::StrCat(
      "/api/v1/namespaces/", web::uri::encode_data_string(options.namespace_name), "/pods/",
      web::uri::encode_data_string(options.pod), "/portforward",
      ports_query ? absl::StrCat("?ports=", options.port) : "");
  return request;
}

namespace {

constexpr size_t kChunk = 128 * 1024;  // bytes per message (as the SPDY tunnel's frames)
constexpr size_t kSendWindow = 32;     // messages handed over and not yet written
constexpr unsigned char kDataChannel = 0;
constexpr unsigned char kErrorChannel = 1;

class ChannelStream : public PortForwardStream {
 public:
  explicit ChannelStream(ErrorTextHandler on_error_text)
      : on_error_text_(std::move(on_error_text)) {}

  ~ChannelStream() override { socket_.reset(); }

  absl::Status Connect(const PortForwardOptions& options, const WebSocketOptions& request) {
    UpgradeRefusal refusal;
    auto socket = WebSocket::Connect(
        request, [this](std::string_view message) { OnMessage(message); },
        [this](const std::string& why) { OnClose(why); }, &refusal);
    if (!socket.ok()) {
      LogDebug(0, absl::StrCat("tunnel: ", socket.status().message()));
      return DescribeRefusal(options, refusal, socket.status());
    }
    socket_ = *std::move(socket);
    std::unique_lock<std::mutex> lock(mu_);
    const bool opened = cv_.wait_for(lock, absl::ToChronoMilliseconds(options.connect_timeout),
                                     [this] { return closed_ || (data_open_ && error_open_); });
    if (data_open_ && error_open_) return absl::OkStatus();
    const std::string why = !opened ? absl::StrCat("the node did not open the port within ",
                                                   absl::FormatDuration(options.connect_timeout))
                                    : "the node closed the connection at once";
    return absl::UnavailableError(absl::StrCat(
        "cannot open a tunnel to ", DescribeTarget(options), " through the API server: ", why,
        error_text_.empty() ? "" : absl::StrCat(" (", error_text_, ")")));
  }

  void Relay(int fd) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      fd_ = fd;
      if (!early_.empty() && !WriteAll(fd_, early_.data(), early_.size())) closed_ = true;
      early_.clear();
      if (closed_ || aborted_) shutdown(fd_, SHUT_RDWR);
    }
    std::deque<std::future<bool>> in_flight;
    while (true) {
      std::string message(kChunk + 1, '\0');
      message[0] = static_cast<char>(kDataChannel);
      ssize_t n = recv(fd, message.data() + 1, kChunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      message.resize(static_cast<size_t>(n) + 1);
      if (!SendWindowed(*socket_, std::move(message), in_flight, kSendWindow)) break;
    }
    for (auto& sent : in_flight) sent.wait();
    socket_.reset();  // closes the WebSocket and ends its thread: no handler runs after this
    std::lock_guard<std::mutex> lock(mu_);
    close(fd_);
    fd_ = -1;
  }

  void Abort() override {
    std::lock_guard<std::mutex> lock(mu_);
    aborted_ = true;
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
  }

 private:
  void OnMessage(std::string_view message) {
    if (message.empty()) return;
    const unsigned char channel = static_cast<unsigned char>(message[0]);
    std::unique_lock<std::mutex> lock(mu_);
    size_t skip = 1;
    if (channel <= kErrorChannel) {
      bool& open = channel == kDataChannel ? data_open_ : error_open_;
      if (!open) {  // the node's first frame on a channel: the port number
        open = true;
        skip = std::min<size_t>(message.size(), 3);
        cv_.notify_all();
      }
    }
    if (skip >= message.size()) return;
    if (channel == kDataChannel) {
      if (fd_ < 0) {
        early_.append(message.substr(skip));
        return;
      }
      // Written without the lock (the local side may be slow to read, and Abort must not wait
      // for it); Relay closes the socket only after the WebSocket's thread has ended.
      const int fd = fd_;
      lock.unlock();
      if (!WriteAll(fd, message.data() + skip, message.size() - skip)) shutdown(fd, SHUT_RDWR);
    } else if (channel == kErrorChannel) {
      const std::string text(message.substr(skip));
      error_text_ = text;
      lock.unlock();
      if (on_error_text_) on_error_text_(text);
    }
  }

  void OnClose(const std::string& why) {
    LogDebug(1, absl::StrCat("tunnel: WebSocket closed: ", why));
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
    cv_.notify_all();
  }

  const ErrorTextHandler on_error_text_;
  std::unique_ptr<WebSocket> socket_;
  std::mutex mu_;
  std::condition_variable cv_;
  int fd_ = -1;
  bool data_open_ = false, error_open_ = false, closed_ = false, aborted_ = false;
  std::string early_;       // data that came before Relay had a socket
  std::string error_text_;  // the newest error-channel text
};

}  // namespace

absl::StatusOr<std::unique_ptr<PortForwardStream>> PortForwardStream::Open(
    Client& client, const PortForwardOptions& options, ErrorTextHandler on_error_text) {
  auto request = PortForwardRequest(client, options, "v4.channel.k8s.io", true);
  if (!request.ok()) return request.status();
  auto stream = std::make_unique<ChannelStream>(std::move(on_error_text));
  if (absl::Status status = stream->Connect(options, *request); !status.ok()) return status;
  return std::unique_ptr<PortForwardStream>(std::move(stream));
}

}  // namespace kim::kube
