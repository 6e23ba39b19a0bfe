// NodeSender: one target's Transfer.Receive stream (offer, wants, chunks, commit) and what its
// failures mean to a user.
#include "lib/images/distribution_sender.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kim/agent/v1/agent.grpc.pb.h"
#include "lib/core/grpc_tls.h"
#include "lib/images/agent_convert.h"
#include "lib/images/containerd_blob_source.h"
#include "lib/images/containerd_lease.h"
#include "lib/images/distribution_plan.h"
#include "lib/images/transfer_convert.h"

namespace kim {
namespace {

namespace v1 = agent::v1;
using Phase = DistributeProgress::Phase;
using ReceiveStream = grpc::ClientReaderWriter<v1::ReceiveRequest, v1::ReceiveResponse>;

constexpr size_t kChunkSize = 1 << 20;  // bytes of a blob per message
constexpr absl::Duration kProgressInterval = absl::Milliseconds(100);

// Hands the nodes' progress to the caller's callback one report at a time.
class ProgressRelay {
 public:
  explicit ProgressRelay(const std::function<void(const DistributeProgress&)>& report)
      : report_(report) {}

  void Report(const DistributeProgress& progress) {
    if (!report_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    report_(progress);
  }

 private:
  const std::function<void(const DistributeProgress&)>& report_;
  std::mutex mutex_;
};

// Sends the offer to one node and what it lacks. Run once.
class NodeSender {
 public:
  NodeSender(const AgentTarget& target, const TransferOffer& offer, BlobSource& blobs,
             const DistributeOptions& options, ProgressRelay& relay)
      : target_(target), offer_(offer), blobs_(blobs), options_(options), relay_(relay) {}

  NodeDistribution Run() {
    NodeDistribution result{.node = target_.node, .blobs_total = static_cast<int>(offer_.blobs.size())};
    progress_ = {.node = target_.node, .phase = Phase::kComparing,
                 .blobs_total = result.blobs_total};
    relay_.Report(progress_);
    if (absl::Status status = Transfer(result); !status.ok()) {
      result.status = absl::Status(status.code(), absl::StrCat("node \"", target_.node, "\": ",
                                                               status.message()));
      progress_.phase = Phase::kFailed;
      progress_.error = std::string(result.status.message());
    } else {
      progress_.phase = Phase::kDone;
    }
    progress_.bytes_sent = result.bytes_sent;
    relay_.Report(progress_);
    return result;
  }

 private:
  absl::Status Transfer(NodeDistribution& result) {
    auto credentials = ClientChannelCredentials(options_.tls);
    if (!credentials.ok()) return credentials.status();
    grpc::ChannelArguments args;
    if (!options_.tls.empty() && !target_.server_name.empty()) {
      args.SetSslTargetNameOverride(target_.server_name);
    }
    auto stub = v1::Transfer::NewStub(grpc::CreateCustomChannel(target_.address, *credentials, args));
    grpc::ClientContext context;
    std::optional<Cancellation::Registration> registration;
    if (options_.cancellation != nullptr) {
      registration.emplace(options_.cancellation->OnCancel([&context] { context.TryCancel(); }));
    }
    auto stream = stub->Receive(&context);
    v1::ReceiveRequest request;
    *request.mutable_offer() = ToProto(offer_);
    v1::ReceiveResponse response;
    if (!stream->Write(request) || !stream->Read(&response)) return End(*stream, context);
    started_ = true;
    auto wanted = Wanted(response);
    if (!wanted.ok()) return End(*stream, context, wanted.status());
    progress_.phase = Phase::kSending;
    progress_.blobs_missing = static_cast<int>(wanted->size());
    for (const Descriptor& blob : *wanted) progress_.bytes_total += blob.size;
    relay_.Report(progress_);
    for (const Descriptor& blob : *wanted) {
      if (absl::Status sent = SendBlob(*stream, blob, result); !sent.ok()) {
        return End(*stream, context, absl::IsAborted(sent) ? absl::OkStatus() : sent);
      }
      ++result.blobs_sent;
    }
    progress_.phase = Phase::kCommitting;
    progress_.bytes_sent = result.bytes_sent;
    relay_.Report(progress_);
    request.mutable_commit();
    if (!stream->Write(request) || !stream->Read(&response) || !response.has_committed()) {
      return End(*stream, context);
    }
    result.names.assign(response.committed().names().begin(), response.committed().names().end());
    stream->WritesDone();
    return End(*stream, context);
  }

  // The offered blobs the receiver asked for, in its order.
  absl::StatusOr<std::vector<Descriptor>> Wanted(const v1::ReceiveResponse& response) const {
    if (!response.has_wants()) {
      return absl::InternalError("kim-agent answered the offer without the blobs it lacks");
    }
    std::vector<Descriptor> wanted;
    for (const std::string& digest : response.wants().digests()) {
      auto blob = std::find_if(offer_.blobs.begin(), offer_.blobs.end(),
                               [&](const Descriptor& offered) { return offered.digest == digest; });
      if (blob == offer_.blobs.end()) {
        return absl::InternalError(absl::StrCat("kim-agent asked for blob ", digest, ", which was not offered"));
      }
      wanted.push_back(*blob);
    }
    return wanted;
  }

  // Streams one blob in chunks; Aborted when the stream broke (End tells why).
  absl::Status SendBlob(ReceiveStream& stream, const Descriptor& blob, NodeDistribution& result) {
    v1::ReceiveRequest request;
    v1::BlobChunk* chunk = request.mutable_chunk();
    chunk->set_digest(blob.digest);
    auto send = [&](std::string_view data) -> absl::Status {
      chunk->set_offset(chunk->offset() + static_cast<int64_t>(chunk->data().size()));
      chunk->set_data(std::string(data));
      if (!stream.Write(request)) return absl::AbortedError("the stream broke");
      result.bytes_sent += static_cast<int64_t>(data.size());
      if (absl::Now() - last_report_ >= kProgressInterval) {
        last_report_ = absl::Now();
        progress_.bytes_sent = result.bytes_sent;
        relay_.Report(progress_);
      }
      return absl::OkStatus();
    };
    if (blob.size == 0) return send({});
    return blobs_.ReadChunks(blob, kChunkSize, send);
  }

  // Ends the call and says why it failed: `local` (our own failure: the call is cancelled), or
  // the receiver's answer, or the connection's fate.
  absl::Status End(ReceiveStream& stream, grpc::ClientContext& context,
                   const absl::Status& local = absl::OkStatus()) {
    if (!local.ok()) context.TryCancel();
    const grpc::Status status = stream.Finish();
    if (!local.ok()) return local;
    if (status.ok()) return absl::OkStatus();
    if (options_.cancellation != nullptr && options_.cancellation->IsCancelled()) {
      return absl::CancelledError("distribution cancelled; nothing was named there");
    }
    if (context.GetServerTrailingMetadata().contains(kAgentAnswerKey)) return FromGrpc(status);
    if (!started_) {
      return absl::UnavailableError(absl::StrCat("cannot reach kim-agent at ", target_.address,
                                                 ": ", status.error_message()));
    }
    return absl::UnavailableError(absl::StrCat(
        "lost kim-agent at ", target_.address, " during the transfer (", status.error_message(),
        "); nothing was named there: run the distribution again once the agent is back"));
  }

  const AgentTarget& target_;
  const TransferOffer& offer_;
  BlobSource& blobs_;
  const DistributeOptions& options_;
  ProgressRelay& relay_;
  DistributeProgress progress_;
  absl::Time last_report_ = absl::InfinitePast();
  bool started_ = false;  // the receiver answered the offer
};

}  // namespace

absl::StatusOr<std::vector<NodeDistribution>> DistributeContainerdImages(
    ImageService& service, std::shared_ptr<const ContainerdConnection> connection,
    const std::vector<std::string>& images, const DistributeOptions& options) {
  if (options.targets.empty()) return absl::InvalidArgumentError("no node to distribute to");
  ContainerdBlobSource blobs(connection);
  auto offer = PlanDistribution(service, *connection, blobs, images);
  if (!offer.ok()) return offer.status();
  offer->pin = options.pin;
  // The lease keeps every blob until the last node has it, whatever happens to the images here.
  auto lease = ContainerdLease::Create(connection);
  if (!lease.ok()) return lease.status();
  for (const Descriptor& blob : offer->blobs) {
    if (absl::Status held = lease->AddContent(blob.digest); !held.ok()) return held;
  }
  ProgressRelay relay(options.progress);
  std::vector<NodeDistribution> results(options.targets.size());
  std::vector<std::thread> senders;
  for (size_t i = 0; i < options.targets.size(); ++i) {
    senders.emplace_back([&, i] {
      results[i] = NodeSender(options.targets[i], *offer, blobs, options, relay).Run();
    });
  }
  for (std::thread& sender : senders) sender.join();
  return results;
}

}  // namespace kim
