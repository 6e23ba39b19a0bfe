// ContainerdContentWriter: one Write stream per blob, a response read for every request (the
// server answers each one), so that at most one chunk is in flight.
#include "lib/images/containerd_content_writer.h"

#include "absl/strings/str_cat.h"
#include "containerd/services/content/v1/content.grpc.pb.h"

namespace kim {

namespace content = ::containerd::services::content::v1;

struct ContainerdContentWriter::Stream {
  std::unique_ptr<content::Content::Stub> stub;
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReaderWriter<content::WriteContentRequest,
                                           content::WriteContentResponse>> call;

  // The call's final status, once it has failed.
  grpc::Status End() {
    call->WritesDone();
    return call->Finish();
  }
};

absl::StatusOr<std::unique_ptr<ContainerdContentWriter>> ContainerdContentWriter::Open(
    std::shared_ptr<const ContainerdConnection> connection, const std::string& lease,
    const std::string& ref, const std::string& expected, int64_t size) {
  auto stream = std::make_unique<Stream>();
  stream->stub = content::Content::NewStub(connection->channel());
  stream->context = connection->NewLongContext(lease);
  stream->call = stream->stub->Write(stream->context.get());
  std::unique_ptr<ContainerdContentWriter> writer(
      new ContainerdContentWriter(std::move(stream), ref, expected, size));
  absl::Status opened = writer->Send(content::STAT, {}, {}, nullptr);
  if (absl::IsAlreadyExists(opened)) return nullptr;
  if (!opened.ok()) return opened;
  return writer;
}

ContainerdContentWriter::ContainerdContentWriter(std::unique_ptr<Stream> stream, std::string ref,
                                                 std::string expected, int64_t size)
    : stream_(std::move(stream)), ref_(std::move(ref)), expected_(std::move(expected)),
      size_(size) {}

ContainerdContentWriter::~ContainerdContentWriter() {
  if (done_) return;
  // Abandoning the call aborts nothing by itself: cancel it so containerd closes the ingest;
  // the lease lets the garbage collector take what was written.
  stream_->context->TryCancel();
  stream_->call->Finish().ok();
}

absl::Status ContainerdContentWriter::Send(int action, std::string_view data,
                                           const std::map<std::string, std::string>& labels,
                                           std::string* digest) {
  content::WriteContentRequest request;
  request.set_action(static_cast<content::WriteAction>(action));
  request.set_ref(ref_);
  request.set_total(size_ < 0 ? 0 : size_);  // 0: not known yet
  request.set_expected(expected_);
  request.set_offset(offset_);
  request.set_data(std::string(data));
  for (const auto& [key, value] : labels) (*request.mutable_labels())[key] = value;
  bool sent = stream_->call->Write(request);
  if (sent) ++unanswered_;
  // containerd answers every request, in order. Writes are answered up to kWriteWindow requests
  // late, so that containerd writes one chunk while the next is on its way; a commit waits for
  // every answer. An error shows at the latest then.
  const int may_wait = action == content::WRITE ? kWriteWindow : 0;
  content::WriteContentResponse response;
  while (sent && unanswered_ > may_wait) {
    sent = stream_->call->Read(&response);
    if (sent) --unanswered_;
  }
  if (!sent) {
    done_ = true;
    const grpc::Status status = stream_->End();
    if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
      return absl::AlreadyExistsError(status.error_message());
    }
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
        status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      return absl::DataLossError(absl::StrCat("blob ", expected_.empty() ? ref_ : expected_,
                                              ": ", status.error_message()));
    }
    return FromGrpc(status, absl::StrCat("cannot write blob ", ref_, " to containerd"));
  }
  offset_ += static_cast<int64_t>(data.size());
  if (digest != nullptr) *digest = response.digest();
  return absl::OkStatus();
}

absl::Status ContainerdContentWriter::Write(std::string_view data) {
  if (size_ >= 0 && offset_ + static_cast<int64_t>(data.size()) > size_) {
    return absl::DataLossError(absl::StrCat("blob ", ref_, " is longer than its ", size_, " bytes"));
  }
  return Send(content::WRITE, data, {}, nullptr);
}

absl::StatusOr<std::string> ContainerdContentWriter::Commit(
    const std::map<std::string, std::string>& labels) {
  std::string digest;
  absl::Status status = Send(content::COMMIT, {}, labels, &digest);
  if (absl::IsAlreadyExists(status)) return expected_;  // written meanwhile by someone else
  if (!status.ok()) return status;
  // The blob is committed: end the call without waiting for containerd to close its side (it
  // keeps the stream open after a commit, as Go clients never wait for it either).
  done_ = true;
  stream_->context->TryCancel();
  stream_->call->Finish().ok();
  return digest;
}

}  // namespace kim
