// WebSocket on Boost.Beast: one io_context thread per connection runs the handshake, a
// read loop and a write queue.
// Boost first: cpprestsdk's headers (through websocket.h) define a macro U that breaks Boost's.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "lib/kube/websocket.h"

#include <openssl/ssl.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kim::kube {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// "https://host:port" -> host, port (443 by default); false for anything else.
bool SplitServer(const std::string& server, std::string& host, std::string& port) {
  if (!absl::StartsWith(server, "https://")) return false;
  std::string rest = server.substr(8);
  if (const size_t slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  port = "443";
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string::npos) return false;
    host = rest.substr(1, close - 1);
    if (close + 2 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (const size_t colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    host = rest;
  }
  return !host.empty();
}

bool IsIpAddress(const std::string& host) {
  boost::system::error_code error;
  net::ip::make_address(host, error);
  return !error;
}

// The TLS context, complete before any stream is made from it (OpenSSL copies the client
// certificate and the verify mode into each connection when it is created).
net::ssl::context TlsContext(const StreamingAccess& access) {
  net::ssl::context context(net::ssl::context::tls_client);
  if (access.configure_tls) access.configure_tls(context);
  context.set_verify_mode(access.verify_server ? net::ssl::verify_peer : net::ssl::verify_none);
  return context;
}

class BeastWebSocket : public WebSocket {
 public:
  BeastWebSocket(const StreamingAccess& access, MessageHandler on_message, CloseHandler on_close)
      : ssl_(TlsContext(access)),
        ws_(ioc_, ssl_),
        resolver_(ioc_),
        work_(net::make_work_guard(ioc_)),
        on_message_(std::move(on_message)),
        on_close_(std::move(on_close)) {}

  ~BeastWebSocket() override {
    Close();
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return finished_ || !started_; });
    }
    work_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  absl::Status Open(const WebSocketOptions& options, UpgradeRefusal* refusal) {
    std::string host, port;
    if (!SplitServer(options.server, host, port)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the tunnel needs an https:// API server, not \"", options.server, "\""));
    }
    const StreamingAccess& access = options.access;
    if (!IsIpAddress(host)) SSL_set_tlsext_host_name(ws_.next_layer().native_handle(), host.c_str());
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = absl::ToChronoMilliseconds(options.connect_timeout);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    const std::string subprotocol = options.subprotocol, authorization = access.authorization;
    ws_.set_option(websocket::stream_base::decorator([subprotocol, authorization](
                                                         websocket::request_type& request) {
      request.set(http::field::sec_websocket_protocol, subprotocol);
      request.set(http::field::user_agent, "kim");
      if (!authorization.empty()) request.set(http::field::authorization, authorization);
    }));
    ws_.binary(true);
    ws_.auto_fragment(false);
    // Beast masks outgoing data through this buffer and writes it out per fill: 4 KiB by default,
    // which means a TLS record and a system call per 4 KiB, here and at the API server (1 GB
    // through the tunnel: 10.4 s with 4 KiB, 7.1 s with 256 KiB).
    ws_.write_buffer_bytes(128 * 1024);
    ws_.read_message_max(64 << 20);
    {
      std::lock_guard<std::mutex> lock(mu_);
      started_ = true;
    }
    thread_ = std::thread([this] { ioc_.run(); });

    std::promise<absl::Status> opened;
    std::future<absl::Status> result = opened.get_future();
    const std::string where = absl::StrCat(options.server, options.target);
    net::post(ioc_, [this, options, host, port, where, &opened] {
      auto fail = [&opened, where](const std::string& what, const beast::error_code& error) {
        opened.set_value(absl::UnavailableError(
            absl::StrCat("cannot open a WebSocket to ", where, ": ", what, ": ", error.message())));
      };
      beast::get_lowest_layer(ws_).expires_after(absl::ToChronoMilliseconds(options.connect_timeout));
      resolver_.async_resolve(host, port, [this, options, host, port, where, fail, &opened](
                                              beast::error_code error, tcp::resolver::results_type found) {
        if (error) return fail("resolve", error);
        beast::get_lowest_layer(ws_).async_connect(found, [this, options, host, port, where, fail, &opened](
                                                              beast::error_code error, tcp::endpoint) {
          if (error) return fail("connect", error);
          beast::error_code ignored;
          beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
          ws_.next_layer().async_handshake(net::ssl::stream_base::client, [this, options, host, port, where, fail, &opened](
                                                                              beast::error_code error) {
            if (error) return fail("TLS", error);
            beast::get_lowest_layer(ws_).expires_never();  // the WebSocket keeps its own time
            ws_.async_handshake(response_, absl::StrCat(host, ":", port), options.target,
                                [this, options, fail, &opened](beast::error_code error) {
              if (error) return fail("upgrade", error);
              if (response_[http::field::sec_websocket_protocol] != options.subprotocol) {
                opened.set_value(absl::UnavailableError(absl::StrCat(
                    "the API server did not accept the WebSocket subprotocol ", options.subprotocol)));
                return;
              }
              {
                std::lock_guard<std::mutex> lock(mu_);
                connected_ = true;
              }
              opened.set_value(absl::OkStatus());
              ReadNext();
            });
          });
        });
      });
    });
    absl::Status status = result.get();
    if (!status.ok() && refusal != nullptr) {
      refusal->http_status = static_cast<int>(response_.result_int());
      refusal->body = response_.body();
      if (refusal->http_status == 101) refusal->http_status = 0;
    }
    if (!status.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = true;
      done_cv_.notify_all();
    }
    return status;
  }

  std::future<bool> Send(std::string message) override {
    auto promise = std::make_shared<std::promise<bool>>();
    std::future<bool> sent = promise->get_future();
    net::post(ioc_, [this, message = std::move(message), promise]() mutable {
      if (closing_) {
        promise->set_value(false);
        return;
      }
      queue_.emplace_back(std::move(message), std::move(promise));
      if (!writing_) WriteNext();
    });
    return sent;
  }

  void Close() override {
    net::post(ioc_, [this] {
      if (closing_) return;
      closing_ = true;
      if (!connected()) return;
      ws_.async_close(websocket::close_code::normal,
                      [this](beast::error_code) { Finish("closed by kim"); });
    });
  }

 private:
  bool connected() {
    std::lock_guard<std::mutex> lock(mu_);
    return connected_;
  }

  void ReadNext() {
    ws_.async_read(read_buffer_, [this](beast::error_code error, size_t) {
      if (error) {
        Finish(error == websocket::error::closed ? "closed by the server" : error.message());
        return;
      }
      const auto data = read_buffer_.data();
      on_message_(std::string_view(static_cast<const char*>(data.data()), data.size()));
      read_buffer_.consume(read_buffer_.size());
      ReadNext();
    });
  }

  void WriteNext() {
    writing_ = true;
    ws_.async_write(net::buffer(queue_.front().first), [this](beast::error_code error, size_t) {
      queue_.front().second->set_value(!error);
      queue_.pop_front();
      if (error) {
        writing_ = false;
        Finish(error.message());
        return;
      }
      if (queue_.empty() || closing_) {
        writing_ = false;
        if (closing_) FailQueued();
        return;
      }
      WriteNext();
    });
  }

  void FailQueued() {
    while (!queue_.empty() && !writing_) {
      queue_.front().second->set_value(false);
      queue_.pop_front();
    }
  }

  // The connection ended (io thread): no more sends, the close handler runs once.
  void Finish(const std::string& why) {
    closing_ = true;
    FailQueued();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finished_) return;
      finished_ = true;
      done_cv_.notify_all();
    }
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (on_close_) on_close_(why);
  }

  net::io_context ioc_;
  net::ssl::context ssl_;
  Stream ws_;
  tcp::resolver resolver_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::thread thread_;
  const MessageHandler on_message_;
  const CloseHandler on_close_;
  websocket::response_type response_;
  beast::flat_buffer read_buffer_;
  // io thread only:
  std::deque<std::pair<std::string, std::shared_ptr<std::promise<bool>>>> queue_;
  bool writing_ = false, closing_ = false;
  // shared with other threads:
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool started_ = false, connected_ = false, finished_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WebSocket>> WebSocket::Connect(const WebSocketOptions& options,
                                                              MessageHandler on_message,
                                                              CloseHandler on_close,
                                                              UpgradeRefusal* refusal) {
  auto socket = std::make_unique<BeastWebSocket>(options.access, std::move(on_message),
                                                 std::move(on_close));
  if (absl::Status status = socket->Open(options, refusal); !status.ok()) return status;
  return std::unique_ptr<WebSocket>(std::move(socket));
}

}  // namespace kim::kube
