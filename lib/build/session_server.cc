// The session's gRPC server on nghttp2: see session_server.h. One mutex guards the nghttp2
// session and every call's buffers; nghttp2 is only ever entered with it held.
#include "lib/build/session_server.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <deque>

#include "absl/strings/str_cat.h"

namespace kim::build {
namespace {

// Flow control: the client may have this much in flight per call and in all; a call whose
// handler falls behind stops reopening its window once this much is waiting to be read.
constexpr int32_t kStreamWindow = 4 << 20;
constexpr int32_t kConnectionWindow = 16 << 20;
constexpr size_t kMaxQueuedRequestBytes = 4 << 20;
// A handler's Write waits while this much of its responses is not yet handed to nghttp2.
constexpr size_t kMaxQueuedResponseBytes = 1 << 20;
// Largest request message accepted, and largest batch of frames written at once.
constexpr size_t kMaxRequestMessage = 64 << 20;
constexpr size_t kMaxBatch = 1 << 20;

// gRPC's percent-encoding of grpc-message.
std::string PercentEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7e || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

nghttp2_nv Header(const std::string& name, const std::string& value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

// What the server and the handler share about one call. Guarded by SessionServer::mu_.
struct SessionCallState {
  int32_t stream_id = 0;
  std::string method;
  std::vector<std::pair<std::string, std::string>> metadata;
  const SessionHandler* handler = nullptr;

  std::string inbound;                // request bytes not yet split into messages
  std::deque<std::string> messages;   // whole request messages, oldest first
  size_t queued_request_bytes = 0;    // inbound + messages, with their 5-byte prefixes
  size_t unconsumed = 0;              // received bytes whose window is not reopened yet
  bool requests_done = false;         // the client half-closed
  bool bad_request = false;           // a compressed or oversized message

  std::string outbound;               // framed responses not yet handed to nghttp2
  size_t outbound_offset = 0;
  bool deferred = false;              // nghttp2 waits for resume_data
  bool handler_done = false;
  absl::Status status;

  bool closed = false;     // the stream is gone
  bool cancelled = false;  // gone before the handler finished, or the session ended
  std::condition_variable read_cv;
  std::condition_variable write_cv;

  size_t PendingResponseBytes() const { return outbound.size() - outbound_offset; }
};

// nghttp2's callbacks, run inside nghttp2_session_mem_recv/mem_send with mu_ held.
struct SessionCallbacks {
  static SessionServer* Server(void* user_data) { return static_cast<SessionServer*>(user_data); }

  static std::shared_ptr<SessionCallState> Find(SessionServer* server, int32_t stream_id) {
    auto it = server->calls_.find(stream_id);
    return it == server->calls_.end() ? nullptr : it->second;
  }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto call = std::make_shared<SessionCallState>();
    call->stream_id = frame->hd.stream_id;
    Server(user_data)->calls_[call->stream_id] = call;
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto call = Find(Server(user_data), frame->hd.stream_id);
    if (!call) return 0;
    std::string key(reinterpret_cast<const char*>(name), namelen);
    std::string text(reinterpret_cast<const char*>(value), valuelen);
    if (key == ":path") {
      call->method = std::move(text);
    } else if (!key.empty() && key[0] != ':') {
      call->metadata.emplace_back(std::move(key), std::move(text));
    }
    return 0;
  }

  static int OnFrameReceived(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    SessionServer* server = Server(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    auto call = Find(server, frame->hd.stream_id);
    if (!call) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      server->Dispatch(call);
    }
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
      call->requests_done = true;
      call->read_cv.notify_all();
    }
    return 0;
  }

  static int OnData(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                    size_t length, void* user_data) {
    auto call = Find(Server(user_data), stream_id);
    if (!call) {
      nghttp2_session_consume_connection(session, length);
      return 0;
    }
    call->inbound.append(reinterpret_cast<const char*>(data), length);
    call->queued_request_bytes += length;
    size_t offset = 0;
    while (!call->bad_request && call->inbound.size() - offset >= 5) {
      const auto* p = reinterpret_cast<const unsigned char*>(call->inbound.data() + offset);
      const size_t size = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
      if (p[0] != 0 || size > kMaxRequestMessage) {
        call->bad_request = true;  // compressed messages are never negotiated
        break;
      }
      if (call->inbound.size() - offset < 5 + size) break;
      call->messages.emplace_back(call->inbound, offset + 5, size);
      offset += 5 + size;
    }
    call->inbound.erase(0, offset);
    if (call->queued_request_bytes <= kMaxQueuedRequestBytes) {
      nghttp2_session_consume(session, stream_id, length + call->unconsumed);
      call->unconsumed = 0;
    } else {
      call->unconsumed += length;
    }
    call->read_cv.notify_all();
    return 0;
  }

  static int OnStreamClose(nghttp2_session* session, int32_t stream_id, uint32_t,
                           void* user_data) {
    SessionServer* server = Server(user_data);
    auto call = Find(server, stream_id);
    if (!call) return 0;
    if (call->unconsumed > 0) nghttp2_session_consume_connection(session, call->unconsumed);
    call->unconsumed = 0;
    call->closed = true;
    if (!call->handler_done) call->cancelled = true;
    call->read_cv.notify_all();
    call->write_cv.notify_all();
    server->calls_.erase(stream_id);
    return 0;
  }

  // The data source of a call's response body: its queued responses, then the trailers.
  static ssize_t ReadResponse(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                              size_t length, uint32_t* data_flags, nghttp2_data_source* source,
                              void*) {
    auto* call = static_cast<SessionCallState*>(source->ptr);
    const size_t n = std::min(length, call->PendingResponseBytes());
    std::memcpy(buf, call->outbound.data() + call->outbound_offset, n);
    call->outbound_offset += n;
    if (call->outbound_offset == call->outbound.size()) {
      call->outbound.clear();
      call->outbound_offset = 0;
    } else if (call->outbound_offset >= kMaxQueuedResponseBytes) {
      call->outbound.erase(0, call->outbound_offset);
      call->outbound_offset = 0;
    }
    if (call->PendingResponseBytes() < kMaxQueuedResponseBytes / 2) call->write_cv.notify_all();
    if (call->PendingResponseBytes() == 0 && call->handler_done) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      const std::string status_key = "grpc-status", message_key = "grpc-message";
      const std::string code = std::to_string(static_cast<int>(call->status.code()));
      const std::string message = PercentEncode(call->status.message());
      std::vector<nghttp2_nv> trailers = {Header(status_key, code)};
      if (!message.empty()) trailers.push_back(Header(message_key, message));
      nghttp2_submit_trailer(session, stream_id, trailers.data(), trailers.size());
      return static_cast<ssize_t>(n);
    }
    if (n == 0) {
      call->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    return static_cast<ssize_t>(n);
  }
};

SessionCall::SessionCall(SessionServer* server, std::shared_ptr<SessionCallState> state)
    : server_(server), state_(std::move(state)) {}

const std::string& SessionCall::method() const { return state_->method; }

std::vector<std::string> SessionCall::Metadata(absl::string_view key) const {
  std::vector<std::string> values;
  for (const auto& [name, value] : state_->metadata) {
    if (name == key) values.push_back(value);
  }
  return values;
}

bool SessionCall::Read(google::protobuf::MessageLite* message) {
  std::string bytes;
  {
    std::unique_lock lock(server_->mu_);
    SessionCallState& call = *state_;
    call.read_cv.wait(lock, [&] {
      return !call.messages.empty() || call.requests_done || call.closed || call.bad_request;
    });
    if (call.cancelled || call.messages.empty()) return false;
    bytes = std::move(call.messages.front());
    call.messages.pop_front();
    call.queued_request_bytes -= 5 + bytes.size();
    server_->ConsumeLocked(call);
  }
  return message->ParseFromString(bytes);
}

bool SessionCall::Write(const google::protobuf::MessageLite& message) {
  const size_t size = message.ByteSizeLong();
  std::string framed(5 + size, '\0');
  framed[1] = static_cast<char>(size >> 24);
  framed[2] = static_cast<char>(size >> 16);
  framed[3] = static_cast<char>(size >> 8);
  framed[4] = static_cast<char>(size);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(framed.data() + 5));

  std::unique_lock lock(server_->mu_);
  SessionCallState& call = *state_;
  call.write_cv.wait(lock, [&] {
    return call.closed || call.PendingResponseBytes() < kMaxQueuedResponseBytes;
  });
  if (call.closed) return false;
  if (call.PendingResponseBytes() == 0) {
    call.outbound = std::move(framed);
    call.outbound_offset = 0;
  } else {
    call.outbound += framed;
  }
  if (call.deferred) {
    call.deferred = false;
    nghttp2_session_resume_data(server_->session_, call.stream_id);
  }
  server_->WakeWriter();
  return true;
}

bool SessionCall::IsCancelled() const {
  std::lock_guard lock(server_->mu_);
  return state_->cancelled;
}

bool SessionCall::WaitCancelled(std::chrono::milliseconds timeout) {
  std::unique_lock lock(server_->mu_);
  return state_->read_cv.wait_for(lock, timeout, [&] { return state_->cancelled; });
}

SessionServer::SessionServer(SessionByteStream* stream, std::vector<SessionMethod> methods)
    : stream_(stream) {
  for (SessionMethod& method : methods) methods_[method.name] = std::move(method.handler);
}

SessionServer::~SessionServer() {
  Stop(std::chrono::seconds(3));
  if (session_ != nullptr) nghttp2_session_del(session_);
}

void SessionServer::Start() {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, SessionCallbacks::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, SessionCallbacks::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, SessionCallbacks::OnFrameReceived);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, SessionCallbacks::OnData);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, SessionCallbacks::OnStreamClose);
  nghttp2_option* options = nullptr;
  nghttp2_option_new(&options);
  nghttp2_option_set_no_auto_window_update(options, 1);
  nghttp2_session_server_new2(&session_, callbacks, this, options);
  nghttp2_option_del(options);
  nghttp2_session_callbacks_del(callbacks);

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
  };
  std::lock_guard lock(mu_);
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  started_ = true;
  want_write_ = true;
  reader_ = std::thread([this] { ReadLoop(); });
  writer_ = std::thread([this] { WriteLoop(); });
}

void SessionServer::Stop(std::chrono::milliseconds grace) {
  {
    std::unique_lock lock(mu_);
    if (stopped_ || !started_) return;
    stopped_ = true;
    stopping_ = true;
    writer_cv_.notify_all();
    if (!reader_done_cv_.wait_for(lock, grace, [&] { return reader_done_; })) {
      lock.unlock();
      stream_->Abort();
    }
  }
  reader_.join();
  {
    std::lock_guard lock(mu_);
    broken_ = true;
    CancelAll();
    writer_cv_.notify_all();
  }
  writer_.join();
  std::map<uint64_t, std::thread> handlers;
  {
    std::lock_guard lock(mu_);
    handlers.swap(handlers_);
  }
  for (auto& [key, thread] : handlers) thread.join();
}

void SessionServer::ReadLoop() {
  std::string bytes;
  while (stream_->Read(&bytes)) {
    {
      std::lock_guard lock(mu_);
      const ssize_t used = nghttp2_session_mem_recv(
          session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      if (used < 0) {
        broken_ = true;
        break;
      }
      WakeWriter();
    }
    ReapHandlers();
  }
  std::lock_guard lock(mu_);
  reader_done_ = true;
  broken_ = true;
  CancelAll();
  writer_cv_.notify_all();
  reader_done_cv_.notify_all();
}

void SessionServer::WriteLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    writer_cv_.wait(lock, [&] { return want_write_ || stopping_ || broken_; });
    if (broken_) break;
    want_write_ = false;
    std::string batch;
    while (batch.size() < kMaxBatch) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) break;
      batch.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (batch.empty()) {
      if (stopping_) break;
      continue;
    }
    if (batch.size() >= kMaxBatch) want_write_ = true;
    lock.unlock();
    const bool written = stream_->Write(std::move(batch));
    lock.lock();
    if (!written) {
      broken_ = true;
      CancelAll();
      break;
    }
  }
  lock.unlock();
  stream_->CloseWrite();
}

void SessionServer::WakeWriter() {
  want_write_ = true;
  writer_cv_.notify_one();
}

void SessionServer::CancelAll() {
  for (auto& [id, call] : calls_) {
    call->closed = true;
    call->cancelled = true;
    call->read_cv.notify_all();
    call->write_cv.notify_all();
  }
}

void SessionServer::Dispatch(const std::shared_ptr<SessionCallState>& call) {
  const std::string status_key = ":status", ok = "200";
  const std::string type_key = "content-type", grpc = "application/grpc";
  auto method = methods_.find(call->method);
  if (method == methods_.end() || stopping_) {
    const std::string code_key = "grpc-status", message_key = "grpc-message";
    const std::string code = std::to_string(stopping_ ? 14 : 12);  // UNAVAILABLE, UNIMPLEMENTED
    const std::string message = PercentEncode(
        stopping_ ? "the session is closing" : absl::StrCat("unknown method ", call->method));
    const nghttp2_nv headers[] = {Header(status_key, ok), Header(type_key, grpc),
                                  Header(code_key, code), Header(message_key, message)};
    call->handler_done = true;
    nghttp2_submit_response(session_, call->stream_id, headers, std::size(headers), nullptr);
    return;
  }
  call->handler = &method->second;
  const nghttp2_nv headers[] = {Header(status_key, ok), Header(type_key, grpc)};
  nghttp2_data_provider body{};
  body.source.ptr = call.get();
  body.read_callback = SessionCallbacks::ReadResponse;
  nghttp2_submit_response(session_, call->stream_id, headers, std::size(headers), &body);
  const uint64_t key = next_handler_++;
  handlers_.emplace(key, std::thread([this, call, key] {
    SessionCall session_call(this, call);
    const absl::Status status = (*call->handler)(session_call);
    Finish(call, status);
    std::lock_guard lock(mu_);
    finished_handlers_.push_back(key);
  }));
}

void SessionServer::Finish(const std::shared_ptr<SessionCallState>& call, const absl::Status& status) {
  std::lock_guard lock(mu_);
  call->handler_done = true;
  call->status = status;
  if (call->closed) return;
  if (call->deferred) {
    call->deferred = false;
    nghttp2_session_resume_data(session_, call->stream_id);
  }
  WakeWriter();
}

void SessionServer::ReapHandlers() {
  std::vector<std::thread> finished;
  {
    std::lock_guard lock(mu_);
    for (uint64_t key : finished_handlers_) {
      auto it = handlers_.find(key);
      if (it == handlers_.end()) continue;
      finished.push_back(std::move(it->second));
      handlers_.erase(it);
    }
    finished_handlers_.clear();
  }
  for (std::thread& thread : finished) thread.join();
}

void SessionServer::ConsumeLocked(SessionCallState& call) {
  if (call.unconsumed == 0 || call.closed ||
      call.queued_request_bytes > kMaxQueuedRequestBytes) {
    return;
  }
  nghttp2_session_consume(session_, call.stream_id, call.unconsumed);
  call.unconsumed = 0;
  WakeWriter();
}

}  // namespace kim::build
