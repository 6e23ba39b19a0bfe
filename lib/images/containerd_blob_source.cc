// Reading blobs from containerd's content store.
#include "lib/images/containerd_blob_source.h"

#include "absl/strings/str_cat.h"
#include "containerd/services/content/v1/content.grpc.pb.h"
#include "kim/digest.h"

namespace kim {
namespace {

namespace content = ::containerd::services::content::v1;

// Runs one Read stream of `digest`, handing each chunk to `on_chunk`.
absl::Status Read(const ContainerdConnection& connection, std::unique_ptr<grpc::ClientContext> context,
                  const std::string& digest,
                  const std::function<absl::Status(std::string_view)>& on_chunk) {
  auto stub = content::Content::NewStub(connection.channel());
  content::ReadContentRequest request;
  request.set_digest(digest);
  auto reader = stub->Read(context.get(), request);
  content::ReadContentResponse response;
  absl::Status sink_status;
  while (reader->Read(&response)) {
    sink_status = on_chunk(response.data());
    if (!sink_status.ok()) {
      context->TryCancel();
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (!sink_status.ok()) return sink_status;
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(absl::StrCat("content ", digest, ": not found"));
  }
  return FromGrpc(status, absl::StrCat("cannot read content ", digest, " from containerd"));
}

}  // namespace

absl::StatusOr<std::string> ContainerdBlobSource::ReadAll(const Descriptor& blob) {
  std::string data;
  if (blob.size > 0) data.reserve(static_cast<size_t>(blob.size));
  absl::Status status = Read(*connection_, connection_->NewContext(), blob.digest,
                             [&data](std::string_view chunk) {
                               data.append(chunk);
                               return absl::OkStatus();
                             });
  if (!status.ok()) return status;
  if (blob.size > 0 && static_cast<int64_t>(data.size()) != blob.size) {
    return absl::DataLossError(absl::StrCat("content ", blob.digest, ": read ", data.size(),
                                            " bytes, expected ", blob.size));
  }
  if (blob.digest.starts_with(Digest::kSha256.data()) &&
      DigestOf(data).String() != blob.digest) {
    return absl::DataLossError(
        absl::StrCat("content ", blob.digest, ": digest mismatch (got ", DigestOf(data).String(), ")"));
  }
  return data;
}

absl::Status ContainerdBlobSource::ReadChunks(
    const Descriptor& blob, size_t chunk_size,
    const std::function<absl::Status(std::string_view)>& sink) {
  if (chunk_size == 0) return absl::InvalidArgumentError("chunk size must not be 0");
  return Read(*connection_, connection_->NewLongContext(), blob.digest,
              [&](std::string_view chunk) {
                while (!chunk.empty()) {
                  const size_t n = std::min(chunk.size(), chunk_size);
                  if (absl::Status status = sink(chunk.substr(0, n)); !status.ok()) return status;
                  chunk.remove_prefix(n);
                }
                return absl::OkStatus();
              });
}

absl::StatusOr<std::unique_ptr<BlobSource>> NewContainerdBlobSource(
    const ContainerdOptions& options) {
  auto connection = ContainerdConnection::Open(options);
  if (!connection.ok()) return connection.status();
  return std::make_unique<ContainerdBlobSource>(*std::move(connection));
}

}  // namespace kim
