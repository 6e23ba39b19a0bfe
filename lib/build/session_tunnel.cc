// Session tunnel: see session_tunnel.h and the protocol notes (shutdown order matters: ending
// the calls before the daemon closed its side makes it log broken transfers).
#include "lib/build/session_tunnel.h"

#include <chrono>

namespace kim::build {

// The Session stream as the server's byte stream: each BytesMessage is a run of HTTP/2 bytes.
class SessionTunnel::Stream final : public SessionByteStream {
 public:
  Stream(grpc::ClientContext* context,
         std::unique_ptr<grpc::ClientReaderWriter<moby::buildkit::v1::BytesMessage,
                                                  moby::buildkit::v1::BytesMessage>> stream)
      : context_(context), stream_(std::move(stream)) {}

  bool Read(std::string* bytes) override {
    if (!stream_->Read(&in_)) return false;
    bytes->swap(*in_.mutable_data());
    return true;
  }
  bool Write(std::string bytes) override {
    out_.mutable_data()->swap(bytes);
    return stream_->Write(out_);
  }
  void CloseWrite() override { stream_->WritesDone(); }
  void Abort() override { context_->TryCancel(); }
  void Finish() { stream_->Finish(); }

 private:
  grpc::ClientContext* context_;
  std::unique_ptr<grpc::ClientReaderWriter<moby::buildkit::v1::BytesMessage,
                                           moby::buildkit::v1::BytesMessage>> stream_;
  moby::buildkit::v1::BytesMessage in_, out_;
};

absl::StatusOr<std::unique_ptr<SessionTunnel>> SessionTunnel::Open(
    moby::buildkit::v1::Control::Stub* control, const std::string& id, const std::string& name,
    std::vector<SessionMethod> methods) {
  std::unique_ptr<SessionTunnel> tunnel(new SessionTunnel());
  // Keys must be lowercase (grpc aborts on others); one entry per served method.
  tunnel->context_.AddMetadata("x-docker-expose-session-uuid", id);
  tunnel->context_.AddMetadata("x-docker-expose-session-name", name);
  tunnel->context_.AddMetadata("x-docker-expose-session-sharedkey", "");
  for (const SessionMethod& method : methods) {
    tunnel->context_.AddMetadata("x-docker-expose-session-grpc-method", method.name);
  }
  tunnel->stream_ = std::make_unique<Stream>(&tunnel->context_, control->Session(&tunnel->context_));
  tunnel->server_ = std::make_unique<SessionServer>(tunnel->stream_.get(), std::move(methods));
  tunnel->server_->Start();
  return tunnel;
}

void SessionTunnel::Close() {
  if (closed_) return;
  closed_ = true;
  server_->Stop(std::chrono::seconds(3));
  stream_->Finish();
}

SessionTunnel::~SessionTunnel() { Close(); }

}  // namespace kim::build
