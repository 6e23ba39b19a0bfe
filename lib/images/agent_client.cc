// The kim agent API's client side, mapped onto ImageService.
#include "lib/images/agent_client.h"

#include <grpcpp/grpcpp.h>

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "kim/agent/v1/agent.grpc.pb.h"
#include "kim/reference.h"
#include "lib/core/grpc_tls.h"
#include "lib/images/agent_convert.h"
#include "lib/images/transfer_convert.h"

namespace kim {
namespace {

namespace v1 = agent::v1;

class AgentImageService final : public ImageService {
 public:
  AgentImageService(std::unique_ptr<v1::Images::Stub> stub, AgentClientOptions options)
      : keep_alive_(options.keep_alive), stub_(std::move(stub)), options_(std::move(options)) {}

  absl::StatusOr<std::vector<Image>> List(const ListOptions& options) override {
    v1::ListRequest request;
    for (const std::string& filter : options.filters) request.add_filters(filter);
    v1::ListResponse response;
    auto context = Context(true);
    if (absl::Status status = Check(stub_->List(context.get(), request, &response), *context);
        !status.ok()) {
      return status;
    }
    std::vector<Image> images;
    for (const v1::Image& image : response.images()) images.push_back(FromProto(image));
    return images;
  }

  absl::StatusOr<Image> Status(const std::string& image) override {
    v1::StatusRequest request;
    request.set_image(image);
    v1::StatusResponse response;
    auto context = Context(true);
    if (absl::Status status = Check(stub_->Status(context.get(), request, &response), *context);
        !status.ok()) {
      return status;
    }
    return FromProto(response.image());
  }

  absl::StatusOr<ImageDetails> Inspect(const std::string& image) override {
    v1::InspectRequest request;
    request.set_image(image);
    v1::InspectResponse response;
    auto context = Context(true);
    if (absl::Status status = Check(stub_->Inspect(context.get(), request, &response), *context);
        !status.ok()) {
      return status;
    }
    return FromProto(response);
  }

  absl::StatusOr<Image> Pull(const std::string& image, const PullOptions& options) override {
    v1::PullRequest request;
    request.set_image(image);
    request.set_platform(options.platform);
    *request.mutable_auth() = ToProto(CredentialsFor(image, options.credentials));
    auto context = Context(false);
    // Cancelling the call makes the agent cancel its work (it watches the call).
    std::optional<Cancellation::Registration> registration;
    if (options.cancellation != nullptr) {
      registration.emplace(options.cancellation->OnCancel([&context] { context->TryCancel(); }));
    }
    auto reader = stub_->Pull(context.get(), request);
    reader->WaitForInitialMetadata();
    v1::PullResponse message;
    std::optional<Image> pulled;
    // The agent took the work on: a failure now is an interruption.
    bool started = context->GetServerInitialMetadata().contains(kAgentStartedKey);
    while (reader->Read(&message)) {
      started = true;
      if (message.has_progress() && options.progress) options.progress(FromProto(message.progress()));
      if (message.has_image()) pulled = FromProto(message.image());
    }
    absl::Status finished = Check(reader->Finish(), *context);
    if (options.cancellation != nullptr && options.cancellation->IsCancelled()) {
      return absl::CancelledError(absl::StrCat("pull of ", image, " cancelled"));
    }
    if (!finished.ok()) return Interrupted("pull", image, finished, started);
    if (!pulled) return absl::InternalError("kim-agent ended the pull without the image");
    return *pulled;
  }

  absl::StatusOr<std::string> Push(const std::string& image, const PushOptions& options) override {
    v1::PushRequest request;
    request.set_image(image);
    request.set_insecure(options.insecure);
    request.set_keep_uncompressed(!options.gzip_uncompressed_layers);
    if (options.compression_level > 0) request.set_compression_level(options.compression_level);
    *request.mutable_auth() = ToProto(CredentialsFor(image, options.credentials));
    auto context = Context(false);
    // Cancelling the call makes the agent cancel its work (it watches the call).
    std::optional<Cancellation::Registration> registration;
    if (options.cancellation != nullptr) {
      registration.emplace(options.cancellation->OnCancel([&context] { context->TryCancel(); }));
    }
    auto reader = stub_->Push(context.get(), request);
    reader->WaitForInitialMetadata();
    v1::PushResponse message;
    std::optional<std::string> digest;
    bool started = context->GetServerInitialMetadata().contains(kAgentStartedKey);
    while (reader->Read(&message)) {
      started = true;
      if (message.has_progress() && options.progress) options.progress(FromProto(message.progress()));
      if (message.has_result()) digest = message.result().digest();
    }
    absl::Status finished = Check(reader->Finish(), *context);
    if (options.cancellation != nullptr && options.cancellation->IsCancelled()) {
      return absl::CancelledError(absl::StrCat("push of ", image, " cancelled"));
    }
    if (!finished.ok()) return Interrupted("push", image, finished, started);
    if (!digest) return absl::InternalError("kim-agent ended the push without a digest");
    return *digest;
  }

  absl::Status Save(const std::vector<std::string>& images, const SaveOptions& options,
                    const ByteSink& sink) override {
    v1::SaveRequest request;
    for (const std::string& image : images) request.add_images(image);
    request.set_format(options.format == ArchiveFormat::kOci ? v1::SaveRequest::OCI
                                                             : v1::SaveRequest::DOCKER);
    auto context = Context(false);
    auto reader = stub_->Save(context.get(), request);
    v1::SaveResponse message;
    while (reader->Read(&message)) {
      if (absl::Status status = sink(message.data()); !status.ok()) {
        context->TryCancel();
        reader->Finish();
        return status;
      }
    }
    return Check(reader->Finish(), *context);
  }

  absl::StatusOr<std::vector<LoadedImage>> Load(const ByteSource& source) override {
    auto context = Context(false);
    v1::LoadResponse response;
    auto writer = stub_->Load(context.get(), &response);
    v1::LoadRequest message;
    while (true) {
      auto piece = source();
      if (!piece.ok()) {  // the agent drops what it received
        context->TryCancel();
        writer->Finish();
        return piece.status();
      }
      if (piece->empty()) break;
      message.set_data(*std::move(piece));
      if (!writer->Write(message)) break;  // the agent stopped: Finish says why
    }
    writer->WritesDone();
    if (absl::Status status = Check(writer->Finish(), *context); !status.ok()) return status;
    std::vector<LoadedImage> loaded;
    for (const v1::LoadedImage& image : response.images()) {
      loaded.push_back({.name = image.name(), .id = image.id()});
    }
    return loaded;
  }

  absl::StatusOr<Image> Tag(const std::string& source,
                            const std::vector<std::string>& targets) override {
    v1::TagRequest request;
    request.set_source(source);
    for (const std::string& target : targets) request.add_targets(target);
    v1::TagResponse response;
    auto context = Context(true);
    if (absl::Status status = Check(stub_->Tag(context.get(), request, &response), *context);
        !status.ok()) {
      return status;
    }
    return FromProto(response.image());
  }

  std::vector<RemoveResult> Remove(const std::vector<std::string>& images, bool force) override {
    v1::RemoveRequest request;
    for (const std::string& image : images) request.add_images(image);
    request.set_force(force);
    v1::RemoveResponse response;
    auto context = Context(true);
    std::vector<RemoveResult> results;
    if (absl::Status status = Check(stub_->Remove(context.get(), request, &response), *context);
        !status.ok()) {
      for (const std::string& image : images) results.push_back({.image = image, .status = status});
      return results;
    }
    for (const v1::RemoveResult& result : response.results()) {
      RemoveResult out{.image = result.image()};
      out.untagged.assign(result.untagged().begin(), result.untagged().end());
      out.deleted.assign(result.deleted().begin(), result.deleted().end());
      if (!result.error().empty()) {
        const int code = result.error_code();
        out.status = absl::Status(code > 0 && code <= 16 ? static_cast<absl::StatusCode>(code)
                                                         : absl::StatusCode::kUnknown,
                                  result.error());
      }
      results.push_back(std::move(out));
    }
    return results;
  }

  absl::StatusOr<PruneReport> Prune(const PruneOptions& options) override {
    v1::PruneRequest request;
    request.set_all(options.all);
    request.set_dry_run(options.dry_run);
    for (const std::string& filter : options.filters) request.add_filters(filter);
    v1::PruneResponse response;
    auto context = Context(false);  // a prune waits for containerd's garbage collection
    if (absl::Status status = Check(stub_->Prune(context.get(), request, &response), *context);
        !status.ok()) {
      return status;
    }
    PruneReport report{.reclaimed = response.reclaimed()};
    for (const v1::PrunedImage& image : response.images()) {
      PrunedImage& out = report.images.emplace_back();
      out.id = image.id();
      out.untagged.assign(image.untagged().begin(), image.untagged().end());
      out.size = image.size();
      out.deleted = image.deleted();
    }
    for (const auto& [id, count] : response.containers()) report.containers[id] = count;
    report.warnings.assign(response.warnings().begin(), response.warnings().end());
    return report;
  }

  absl::StatusOr<DaemonVersion> Version() override {
    v1::VersionResponse response;
    auto context = Context(true);
    if (absl::Status status = Check(stub_->Version(context.get(), {}, &response), *context); !status.ok()) {
      return status;
    }
    return DaemonVersion{.name = "kim-agent",
                         .version = response.version(),
                         .revision = response.git_commit(),
                         .runtime_version = response.containerd_version()};
  }

  absl::StatusOr<std::vector<NodeDistribution>> Distribute(
      const std::vector<std::string>& images, const DistributeOptions& options) override {
    v1::DistributeRequest request;
    for (const std::string& image : images) request.add_images(image);
    for (const AgentTarget& target : options.targets) *request.add_targets() = ToProto(target);
    request.set_pin(options.pin);
    auto context = Context(false);
    // Cancelling the call makes the agent cancel every node's transfer (it watches the call).
    std::optional<Cancellation::Registration> registration;
    if (options.cancellation != nullptr) {
      registration.emplace(options.cancellation->OnCancel([&context] { context->TryCancel(); }));
    }
    auto reader = stub_->Distribute(context.get(), request);
    v1::DistributeResponse message;
    std::optional<std::vector<NodeDistribution>> results;
    while (reader->Read(&message)) {
      if (message.has_progress() && options.progress) options.progress(FromProto(message.progress()));
      if (!message.has_result()) continue;
      results.emplace();
      for (const v1::NodeDistribution& node : message.result().nodes()) results->push_back(FromProto(node));
    }
    absl::Status finished = Check(reader->Finish(), *context);
    if (options.cancellation != nullptr && options.cancellation->IsCancelled()) {
      return absl::CancelledError("distribution cancelled; nothing was named where it had not finished");
    }
    if (!finished.ok()) return finished;
    if (!results) return absl::InternalError("kim-agent ended the distribution without the results");
    return *results;
  }

  absl::Status Pin(const std::vector<std::string>& images, bool pinned) override {
    v1::PinRequest request;
    for (const std::string& image : images) request.add_images(image);
    request.set_pinned(pinned);
    v1::PinResponse response;
    auto context = Context(true);
    return Check(stub_->Pin(context.get(), request, &response), *context);
  }

 private:
  // The caller's credentials for `image`'s registry, or, when it gave none, the cluster's.
  RegistryCredentials CredentialsFor(const std::string& image,
                                     const RegistryCredentials& given) const {
    if (!given.empty()) return given;
    auto ref = ImageReference::ParseNormalized(image);
    if (!ref.ok()) return given;  // the agent reports the bad name
    auto merged = MergeCredentials(given, options_.cluster_credentials.CredentialsFor(ref->Domain()));
    return merged.ok() ? *merged : given;
  }

  std::unique_ptr<grpc::ClientContext> Context(bool with_deadline) const {
    auto context = std::make_unique<grpc::ClientContext>();
    if (with_deadline) {
      context->set_deadline(std::chrono::system_clock::now() +
                            absl::ToChronoMilliseconds(options_.call_timeout));
    }
    return context;
  }

  // A pull or push (`what`) of `image` that failed as `status` says. When the connection broke
  // after the agent had started, says so and that the command can be run again: the agent's work
  // ends with the connection (containerd cancels the pull; the push never tagged).
  absl::Status Interrupted(std::string_view what, const std::string& image,
                           const absl::Status& status, bool started) const {
    if (!absl::IsUnavailable(status) || !started ||
        !absl::StartsWith(status.message(), "cannot reach kim-agent")) {
      return status;
    }
    const std::string message(status.message());
    const std::string verb(what);
    return absl::UnavailableError(absl::StrCat(
        verb, " of ", image, " interrupted: lost kim-agent at ", options_.address, " (",
        message.substr(message.find(": ") + 2), "); nothing was tagged: run the ", verb,
        " again once the agent is back"));
  }

  // Turns a failed call into a status a user can act on: the agent's own answer as it gave it,
  // a broken or refused connection as "cannot reach kim-agent".
  absl::Status Check(const grpc::Status& status, const grpc::ClientContext& context) const {
    if (status.ok()) return absl::OkStatus();
    if (context.GetServerTrailingMetadata().contains(kAgentAnswerKey)) return FromGrpc(status);
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      return absl::UnavailableError(absl::StrCat(
          "cannot reach kim-agent at ", options_.address, ": ", status.error_message(),
          options_.unreachable_hint.empty() ? "" : absl::StrCat(" (", options_.unreachable_hint, ")")));
    }
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return absl::DeadlineExceededError(
          absl::StrCat("kim-agent at ", options_.address, " did not answer in time"));
    }
    return FromGrpc(status);
  }

  std::shared_ptr<void> keep_alive_;  // destroyed after the stub's channel
  std::unique_ptr<v1::Images::Stub> stub_;
  AgentClientOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ImageService>> NewAgentImageService(
    const AgentClientOptions& options) {
  if (options.address.empty()) return absl::InvalidArgumentError("no kim-agent address given");
  auto credentials = ClientChannelCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  if (!options.server_name.empty()) args.SetSslTargetNameOverride(options.server_name);
  return std::make_unique<AgentImageService>(
      v1::Images::NewStub(grpc::CreateCustomChannel(options.address, *credentials, args)), options);
}

}  // namespace kim
