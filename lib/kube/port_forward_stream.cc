// PortForwardStream on cpprestsdk's WebSocket client.
#include "lib/kube/port_forward_stream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <regex>
#include <vector>

#include <cpprest/containerstream.h>
#include <cpprest/ws_client.h>

#include "absl/strings/str_cat.h"
#include "kim/log.h"

namespace kim::kube {
namespace {

namespace ws = web::websockets::client;

constexpr size_t kChunk = 128 * 1024;  // bytes read from the local socket per message
constexpr size_t kSendWindow = 4;      // messages handed to the WebSocket and not yet written
constexpr unsigned char kDataChannel = 0;
constexpr unsigned char kErrorChannel = 1;

// Writes all of `data` to `fd`; false when the local side is gone.
bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::string Target(const PortForwardOptions& options) {
  return absl::StrCat("pod \"", options.pod, "\" in namespace \"", options.namespace_name,
                      "\" (port ", options.port, ")");
}

// Why the API server refused the upgrade: a plain GET of the same subresource answers with
// the Status the WebSocket client cannot show (403 with the user, 404), or 400 "Upgrade
// request required" when the caller may use it and the failure lies elsewhere.
absl::Status Diagnose(Client& client, const PortForwardOptions& options,
                      const std::string& websocket_error) {
  auto probe = client.GetSubresource(kPods, options.namespace_name, options.pod, "portforward");
  const std::string prefix =
      absl::StrCat("cannot open a tunnel to ", Target(options), " through the API server: ");
  if (absl::IsPermissionDenied(probe.status())) {
    std::string user;
    std::smatch match;
    const std::string message(probe.status().message());
    if (std::regex_search(message, match, std::regex("for user \"([^\"]*)\""))) user = match[1];
    return absl::PermissionDeniedError(absl::StrCat(
        prefix, "forbidden for user \"", user, "\" (needs RBAC verbs \"get\" and \"create\" on "
        "\"pods/portforward\" in namespace \"", options.namespace_name, "\")"));
  }
  if (absl::IsNotFound(probe.status())) {
    return absl::NotFoundError(absl::StrCat(prefix, "the pod is gone (is the builder "
                                                    "restarting? see \"kim system info\")"));
  }
  if (absl::IsUnauthenticated(probe.status())) return probe.status();
  return absl::UnavailableError(absl::StrCat(prefix, websocket_error));
}

class CppRestStream : public PortForwardStream {
 public:
  CppRestStream(ErrorTextHandler on_error_text, const ws::websocket_client_config& config)
      : on_error_text_(std::move(on_error_text)), client_(config) {}

  ~CppRestStream() override {
    Close();
  }

  absl::Status Connect(Client& kube, const PortForwardOptions& options, const web::uri& uri) {
    client_.set_message_handler([this](const ws::websocket_incoming_message& message) {
      OnMessage(message);
    });
    client_.set_close_handler([this](ws::websocket_close_status, const utility::string_t&,
                                     const std::error_code&) { OnClose(); });
    try {
      client_.connect(uri).get();
    } catch (const std::exception& e) {
      LogDebug(0, absl::StrCat("tunnel: WebSocket to ", uri.to_string(), " failed: ", e.what()));
      return Diagnose(kube, options, e.what());
    }
    std::unique_lock<std::mutex> lock(mu_);
    const bool opened = cv_.wait_for(lock, absl::ToChronoMilliseconds(options.connect_timeout),
                                     [this] { return closed_ || (data_open_ && error_open_); });
    if (data_open_ && error_open_) return absl::OkStatus();
    const std::string why = !opened ? absl::StrCat("the node did not open the port within ",
                                                   absl::FormatDuration(options.connect_timeout))
                                    : "the node closed the connection at once";
    return absl::UnavailableError(absl::StrCat(
        "cannot open a tunnel to ", Target(options), " through the API server: ", why,
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
    std::deque<pplx::task<void>> in_flight;
    while (true) {
      std::vector<uint8_t> buffer(kChunk + 1);
      buffer[0] = kDataChannel;
      ssize_t n = recv(fd, buffer.data() + 1, kChunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buffer.resize(static_cast<size_t>(n) + 1);
      ws::websocket_outgoing_message message;
      message.set_binary_message(
          concurrency::streams::container_buffer<std::vector<uint8_t>>(std::move(buffer)));
      if (!Send(message, in_flight)) break;
    }
    for (auto& task : in_flight) Wait(task);
    Close();
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
  // Hands `message` over, keeping at most kSendWindow unwritten; false once sending failed.
  bool Send(ws::websocket_outgoing_message& message, std::deque<pplx::task<void>>& in_flight) {
    try {
      in_flight.push_back(client_.send(message));
    } catch (const std::exception& e) {
      LogDebug(0, absl::StrCat("tunnel: send failed: ", e.what()));
      return false;
    }
    while (in_flight.size() >= kSendWindow) {
      if (!Wait(in_flight.front())) return false;
      in_flight.pop_front();
    }
    return true;
  }

  static bool Wait(pplx::task<void>& task) {
    try {
      task.get();
      return true;
    } catch (const std::exception& e) {
      LogDebug(1, absl::StrCat("tunnel: send failed: ", e.what()));
      return false;
    }
  }

  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (close_requested_) return;
      close_requested_ = true;
    }
    try {
      client_.close().wait();
    } catch (const std::exception&) {
    }
  }

  void OnMessage(const ws::websocket_incoming_message& message) {
    if (message.message_type() != ws::websocket_message_type::binary_message) return;
    const size_t size = message.length();
    if (size == 0) return;
    std::string data(size, '\0');
    message.body().streambuf().getn(reinterpret_cast<uint8_t*>(data.data()), size).get();
    const unsigned char channel = static_cast<unsigned char>(data[0]);
    std::unique_lock<std::mutex> lock(mu_);
    bool& open = channel == kDataChannel ? data_open_ : error_open_;
    size_t skip = 1;
    if (channel <= kErrorChannel && !open) {  // the node's first frame: the port number
      open = true;
      skip = std::min<size_t>(size, 3);
      cv_.notify_all();
    }
    if (skip >= size) return;
    if (channel == kDataChannel) {
      if (fd_ < 0) {
        early_.append(data, skip, std::string::npos);
        return;
      }
      // Written without the lock (the local side may be slow to read, and Abort must not wait
      // for it); the socket stays open until Relay has closed the WebSocket, which ends this
      // handler's thread first.
      const int fd = fd_;
      lock.unlock();
      if (!WriteAll(fd, data.data() + skip, size - skip)) shutdown(fd, SHUT_RDWR);
    } else if (channel == kErrorChannel) {
      const std::string text = data.substr(skip);
      error_text_ = text;
      lock.unlock();
      if (on_error_text_) on_error_text_(text);
    }
  }

  void OnClose() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
    cv_.notify_all();
  }

  ErrorTextHandler on_error_text_;
  ws::websocket_callback_client client_;
  std::mutex mu_;
  std::condition_variable cv_;
  int fd_ = -1;
  bool data_open_ = false, error_open_ = false, closed_ = false, aborted_ = false;
  bool close_requested_ = false;
  std::string early_;       // data that came before Relay had a socket
  std::string error_text_;  // the newest error-channel text
};

}  // namespace

absl::StatusOr<std::unique_ptr<PortForwardStream>> PortForwardStream::Open(
    Client& client, const PortForwardOptions& options, ErrorTextHandler on_error_text) {
  auto access = client.Streaming();
  if (!access.ok()) return access.status();
  ws::websocket_client_config config;
  config.set_validate_certificates(access->verify_server);
  config.set_ssl_context_callback(access->configure_tls);
  config.add_subprotocol("v4.channel.k8s.io");
  config.set_user_agent("kim");
  if (!access->authorization.empty()) config.headers().add("Authorization", access->authorization);
  std::string server = access->server;
  if (server.rfind("https://", 0) == 0) {
    server = "wss://" + server.substr(8);
  } else if (server.rfind("http://", 0) == 0) {
    server = "ws://" + server.substr(7);
  }
  web::uri uri;
  try {
    uri = web::uri(absl::StrCat(server, "/api/v1/namespaces/",
                                web::uri::encode_data_string(options.namespace_name), "/pods/",
                                web::uri::encode_data_string(options.pod),
                                "/portforward?ports=", options.port));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid API server URL \"", access->server,
                                                   "\": ", e.what()));
  }
  auto stream = std::make_unique<CppRestStream>(std::move(on_error_text), config);
  if (absl::Status status = stream->Connect(client, options, uri); !status.ok()) return status;
  return std::unique_ptr<PortForwardStream>(std::move(stream));
}

}  // namespace kim::kube
