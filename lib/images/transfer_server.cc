// TransferService: one ReceiveSession per Receive stream, driven by the sender's messages.
#include "lib/images/transfer_server.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kim/agent/v1/agent.grpc.pb.h"
#include "lib/images/agent_calls.h"
#include "lib/images/image_receiver.h"
#include "lib/images/transfer_convert.h"

namespace kim {
namespace {

namespace v1 = ::kim::agent::v1;
using Stream = grpc::ServerReaderWriter<v1::ReceiveResponse, v1::ReceiveRequest>;

class TransferService final : public v1::Transfer::Service {
 public:
  explicit TransferService(std::shared_ptr<ImageService> images) : images_(std::move(images)) {}

  grpc::Status Receive(grpc::ServerContext* context, Stream* stream) override {
    auto* receiver = dynamic_cast<ImageReceiver*>(images_.get());
    if (receiver == nullptr) return NoBackend();
    v1::ReceiveRequest request;
    if (!stream->Read(&request)) return grpc::Status::OK;  // the sender went away at once
    if (!request.has_offer()) {
      return Answer(context, absl::InvalidArgumentError("a transfer must start with its offer"));
    }
    const TransferOffer offer = FromProto(request.offer());
    std::vector<std::string> names;
    for (const OfferedImage& image : offer.images) names.insert(names.end(), image.names.begin(), image.names.end());
    Audit(context, "receive", absl::StrJoin(names, " "));
    auto session = receiver->BeginReceive(offer);
    if (!session.ok()) return Answer(context, session.status());
    v1::ReceiveResponse response;
    response.mutable_wants();  // set even when the node lacks nothing
    for (const Descriptor& blob : (*session)->missing()) response.mutable_wants()->add_digests(blob.digest);
    if (!stream->Write(response)) return Gone();
    return Answer(context, Take(context, *stream, **session));
  }

 private:
  // Takes the chunks and the commit; the session is destroyed (and its lease with all it holds
  // collected) unless it committed.
  absl::Status Take(grpc::ServerContext* context, Stream& stream, ReceiveSession& session) {
    v1::ReceiveRequest request;
    while (stream.Read(&request)) {
      if (request.has_chunk()) {
        const v1::BlobChunk& chunk = request.chunk();
        if (absl::Status status = session.Write(chunk.digest(), chunk.offset(), chunk.data());
            !status.ok()) {
          return status;
        }
        continue;
      }
      if (!request.has_commit()) {
        return absl::InvalidArgumentError("a transfer may send only chunks after its offer, then commit");
      }
      auto names = session.Commit();
      if (!names.ok()) return names.status();
      v1::ReceiveResponse response;
      response.mutable_committed();
      for (const std::string& name : *names) response.mutable_committed()->add_names(name);
      if (!stream.Write(response)) return absl::OkStatus();  // named; the sender just went away
      return absl::OkStatus();
    }
    if (context->IsCancelled()) return absl::CancelledError("the sender cancelled the transfer; nothing was named");
    return absl::CancelledError("the sender ended the transfer before its commit; nothing was named");
  }

  static grpc::Status Gone() {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the sender went away");
  }

  std::shared_ptr<ImageService> images_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewTransferService(std::shared_ptr<ImageService> images) {
  return std::make_unique<TransferService>(std::move(images));
}

}  // namespace kim
