// The kim-agent gRPC server: grpc.health.v1 plus the kim agent API, an adapter that serves an
// ImageService (normally containerd's) to remote kim CLIs.
#include "kim/agent_server.h"

#include <unistd.h>

#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kim/agent/v1/agent.grpc.pb.h"
#include "kim/version.h"
#include "lib/images/agent_calls.h"
#include "lib/images/agent_convert.h"
#include "lib/images/call_watch.h"
#include "lib/images/image_receiver.h"
#include "lib/images/transfer_convert.h"
#include "lib/images/transfer_server.h"

namespace kim {
namespace {

namespace v1 = ::kim::agent::v1;

constexpr size_t kArchiveChunk = 1 << 20;  // bytes of an archive per Save message

// The Images service over one ImageService.
class ImagesService final : public v1::Images::Service {
 public:
  // `tls`: the agent's own certificate, presented when it dials other agents to distribute.
  ImagesService(std::shared_ptr<ImageService> images, TlsMaterial tls)
      : images_(std::move(images)), tls_(std::move(tls)) {}

  grpc::Status List(grpc::ServerContext* context, const v1::ListRequest* request,
                    v1::ListResponse* response) override {
    if (!images_) return NoBackend();
    ListOptions options;
    options.filters.assign(request->filters().begin(), request->filters().end());
    auto images = images_->List(options);
    if (!images.ok()) return Answer(context, images.status());
    for (const Image& image : *images) *response->add_images() = ToProto(image);
    return grpc::Status::OK;
  }

  grpc::Status Status(grpc::ServerContext* context, const v1::StatusRequest* request,
                      v1::StatusResponse* response) override {
    if (!images_) return NoBackend();
    auto image = images_->Status(request->image());
    if (!image.ok()) return Answer(context, image.status());
    *response->mutable_image() = ToProto(*image);
    return grpc::Status::OK;
  }

  grpc::Status Inspect(grpc::ServerContext* context, const v1::InspectRequest* request,
                       v1::InspectResponse* response) override {
    if (!images_) return NoBackend();
    auto details = images_->Inspect(request->image());
    if (!details.ok()) return Answer(context, details.status());
    *response = ToProto(*details);
    return grpc::Status::OK;
  }

  grpc::Status Pull(grpc::ServerContext* context, const v1::PullRequest* request,
                    grpc::ServerWriter<v1::PullResponse>* writer) override {
    if (!images_) return NoBackend();
    Audit(context, "pull", request->image());
    context->AddInitialMetadata(kAgentStartedKey, "1");
    writer->SendInitialMetadata();  // the client knows from now on that the work is under way
    std::mutex write_mutex;  // progress may be reported from the backend's own threads
    CallWatch watch(context);
    PullOptions options;
    options.cancellation = watch.cancellation();
    options.platform = request->platform();
    options.credentials = FromProto(request->auth());
    options.progress = [&](const BlobProgress& progress) {
      v1::PullResponse message;
      *message.mutable_progress() = ToProto(progress);
      std::lock_guard<std::mutex> lock(write_mutex);
      writer->Write(message);
    };
    auto image = images_->Pull(request->image(), options);
    if (!image.ok()) return Answer(context, image.status());
    v1::PullResponse last;
    *last.mutable_image() = ToProto(*image);
    std::lock_guard<std::mutex> lock(write_mutex);
    writer->Write(last);
    return grpc::Status::OK;
  }

  grpc::Status Push(grpc::ServerContext* context, const v1::PushRequest* request,
                    grpc::ServerWriter<v1::PushResponse>* writer) override {
    if (!images_) return NoBackend();
    Audit(context, "push", request->image());
    context->AddInitialMetadata(kAgentStartedKey, "1");
    writer->SendInitialMetadata();  // the client knows from now on that the work is under way
    std::mutex write_mutex;
    CallWatch watch(context);
    PushOptions options;
    options.cancellation = watch.cancellation();
    options.credentials = FromProto(request->auth());
    options.insecure = request->insecure();
    options.gzip_uncompressed_layers = !request->keep_uncompressed();
    if (request->compression_level() > 0) options.compression_level = request->compression_level();
    options.progress = [&](const BlobProgress& progress) {
      v1::PushResponse message;
      *message.mutable_progress() = ToProto(progress);
      std::lock_guard<std::mutex> lock(write_mutex);
      writer->Write(message);
    };
    auto digest = images_->Push(request->image(), options);
    if (!digest.ok()) return Answer(context, digest.status());
    v1::PushResponse last;
    last.mutable_result()->set_digest(*digest);
    std::lock_guard<std::mutex> lock(write_mutex);
    writer->Write(last);
    return grpc::Status::OK;
  }

  grpc::Status Save(grpc::ServerContext* context, const v1::SaveRequest* request,
                    grpc::ServerWriter<v1::SaveResponse>* writer) override {
    if (!images_) return NoBackend();
    std::vector<std::string> names(request->images().begin(), request->images().end());
    const SaveOptions options{.format = request->format() == v1::SaveRequest::OCI
                                            ? ArchiveFormat::kOci
                                            : ArchiveFormat::kDocker};
    v1::SaveResponse message;
    auto send = [&]() {
      if (!writer->Write(message)) {
        return absl::CancelledError("the client went away during the save");
      }
      message.clear_data();
      return absl::OkStatus();
    };
    absl::Status status = images_->Save(names, options, [&](std::string_view piece) {
      if (context->IsCancelled()) return absl::CancelledError("the save was cancelled");
      message.mutable_data()->append(piece);
      return message.data().size() >= kArchiveChunk ? send() : absl::OkStatus();
    });
    if (status.ok() && !message.data().empty()) status = send();
    return Answer(context, status);
  }

  grpc::Status Load(grpc::ServerContext* context, grpc::ServerReader<v1::LoadRequest>* reader,
                    v1::LoadResponse* response) override {
    if (!images_) return NoBackend();
    Audit(context, "load", "an archive");
    v1::LoadRequest message;
    auto loaded = images_->Load([&]() -> absl::StatusOr<std::string> {
      if (reader->Read(&message)) return std::move(*message.mutable_data());
      if (context->IsCancelled()) return absl::CancelledError("the load was cancelled");
      return std::string();
    });
    if (!loaded.ok()) return Answer(context, loaded.status());
    for (const LoadedImage& image : *loaded) {
      v1::LoadedImage* out = response->add_images();
      out->set_name(image.name);
      out->set_id(image.id);
    }
    return grpc::Status::OK;
  }

  grpc::Status Tag(grpc::ServerContext* context, const v1::TagRequest* request,
                   v1::TagResponse* response) override {
    if (!images_) return NoBackend();
    Audit(context, "tag", absl::StrCat(request->source(), " as ", absl::StrJoin(request->targets(), " ")));
    std::vector<std::string> targets(request->targets().begin(), request->targets().end());
    auto image = images_->Tag(request->source(), targets);
    if (!image.ok()) return Answer(context, image.status());
    *response->mutable_image() = ToProto(*image);
    return grpc::Status::OK;
  }

  grpc::Status Remove(grpc::ServerContext* context, const v1::RemoveRequest* request,
                      v1::RemoveResponse* response) override {
    if (!images_) return NoBackend();
    Audit(context, "remove", absl::StrJoin(request->images(), " "));
    std::vector<std::string> names(request->images().begin(), request->images().end());
    for (const RemoveResult& result : images_->Remove(names, request->force())) {
      v1::RemoveResult* out = response->add_results();
      out->set_image(result.image);
      for (const std::string& name : result.untagged) out->add_untagged(name);
      for (const std::string& id : result.deleted) out->add_deleted(id);
      if (!result.status.ok()) {
        out->set_error(std::string(result.status.message()));
        out->set_error_code(static_cast<int32_t>(result.status.code()));
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status Prune(grpc::ServerContext* context, const v1::PruneRequest* request,
                     v1::PruneResponse* response) override {
    if (!images_) return NoBackend();
    if (!request->dry_run()) {
      Audit(context, "prune", request->all() ? "all unused images" : "dangling images");
    }
    PruneOptions options{.all = request->all(), .dry_run = request->dry_run()};
    options.filters.assign(request->filters().begin(), request->filters().end());
    auto report = images_->Prune(options);
    if (!report.ok()) return Answer(context, report.status());
    for (const PrunedImage& image : report->images) {
      v1::PrunedImage* out = response->add_images();
      out->set_id(image.id);
      for (const std::string& name : image.untagged) out->add_untagged(name);
      out->set_size(image.size);
      out->set_deleted(image.deleted);
    }
    response->set_reclaimed(report->reclaimed);
    for (const auto& [id, count] : report->containers) (*response->mutable_containers())[id] = count;
    for (const std::string& warning : report->warnings) response->add_warnings(warning);
    return grpc::Status::OK;
  }

  grpc::Status Distribute(grpc::ServerContext* context, const v1::DistributeRequest* request,
                          grpc::ServerWriter<v1::DistributeResponse>* writer) override {
    if (!images_) return NoBackend();
    std::vector<std::string> names(request->images().begin(), request->images().end());
    DistributeOptions options{.pin = request->pin(), .tls = tls_};
    std::vector<std::string> nodes;
    for (const v1::AgentTarget& target : request->targets()) {
      options.targets.push_back(FromProto(target));
      nodes.push_back(target.node());
    }
    Audit(context, "distribute", absl::StrCat(absl::StrJoin(names, " "), " to ", absl::StrJoin(nodes, " ")));
    context->AddInitialMetadata(kAgentStartedKey, "1");
    writer->SendInitialMetadata();
    std::mutex write_mutex;  // the nodes report from their own threads
    CallWatch watch(context);
    options.cancellation = watch.cancellation();
    options.progress = [&](const DistributeProgress& progress) {
      v1::DistributeResponse message;
      *message.mutable_progress() = ToProto(progress);
      std::lock_guard<std::mutex> lock(write_mutex);
      writer->Write(message);
    };
    auto results = images_->Distribute(names, options);
    if (!results.ok()) return Answer(context, results.status());
    v1::DistributeResponse last;
    for (const NodeDistribution& result : *results) *last.mutable_result()->add_nodes() = ToProto(result);
    std::lock_guard<std::mutex> lock(write_mutex);
    writer->Write(last);
    return grpc::Status::OK;
  }

  grpc::Status Pin(grpc::ServerContext* context, const v1::PinRequest* request,
                   v1::PinResponse*) override {
    if (!images_) return NoBackend();
    Audit(context, request->pinned() ? "pin" : "unpin", absl::StrJoin(request->images(), " "));
    std::vector<std::string> names(request->images().begin(), request->images().end());
    return Answer(context, images_->Pin(names, request->pinned()));
  }

  grpc::Status Version(grpc::ServerContext*, const v1::VersionRequest*,
                       v1::VersionResponse* response) override {
    response->set_version(std::string(kim::Version()));
    response->set_git_commit(std::string(kim::GitCommit()));
    // containerd's version as this agent's backend reports it; empty when it cannot say
    if (auto runtime = images_->Version(); runtime.ok()) {
      response->set_containerd_version(runtime->version);
      response->set_containerd_revision(runtime->revision);
    }
    return grpc::Status::OK;
  }

 private:
  std::shared_ptr<ImageService> images_;
  TlsMaterial tls_;
};

// Removes, in the background, what receives of an earlier agent left on the node when it died
// mid-transfer (see ImageReceiver::CollectAbandonedReceives).
std::thread CollectAbandonedReceives(std::shared_ptr<ImageService> images) {
  return std::thread([images = std::move(images)] {
    auto* receiver = dynamic_cast<ImageReceiver*>(images.get());
    if (receiver == nullptr) return;
    auto collected = receiver->CollectAbandonedReceives();
    std::string line;
    if (!collected.ok()) {
      line = absl::StrCat("kim-agent: cannot look for unfinished receives: ", collected.status().message(), "\n");
    } else if (*collected > 0) {
      line = absl::StrCat("kim-agent: removed ", *collected,
                          " unfinished receive(s) an earlier agent left (no image was named)\n");
    }
    (void)!::write(STDERR_FILENO, line.data(), line.size());
  });
}

class GrpcAgentServer final : public AgentServer {
 public:
  GrpcAgentServer(std::unique_ptr<ImagesService> service,
                  std::unique_ptr<grpc::Service> transfer, std::unique_ptr<grpc::Server> server,
                  int port, std::thread cleanup)
      : service_(std::move(service)), transfer_(std::move(transfer)), server_(std::move(server)),
        port_(port), cleanup_(std::move(cleanup)) {}

  ~GrpcAgentServer() override {
    if (cleanup_.joinable()) cleanup_.join();
  }

  int port() const override { return port_; }

  void Shutdown(absl::Duration grace) override {
    // Ends the health service's streams first; the server's own shutdown would wait for them.
    if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  }

  void Wait() override { server_->Wait(); }

 private:
  std::unique_ptr<ImagesService> service_;
  std::unique_ptr<grpc::Service> transfer_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::thread cleanup_;
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const AgentServerOptions& options) {
  const TlsMaterial& tls = options.tls;
  const int given = !tls.ca.empty() + !tls.cert.empty() + !tls.key.empty();
  if (given == 0 && options.insecure) return grpc::InsecureServerCredentials();
  if (given == 0) {
    return absl::InvalidArgumentError(
        "refusing to serve plaintext: give --tlscacert, --tlscert and --tlskey (mutual TLS), "
        "or --insecure for loopback and tests");
  }
  if (given != 3) {
    return absl::InvalidArgumentError(
        "mutual TLS needs all of --tlscacert, --tlscert and --tlskey");
  }
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.ca;
  ssl.pem_key_cert_pairs.push_back({tls.key, tls.cert});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AgentServer>> AgentServer::Start(
    const AgentServerOptions& options) {
  auto credentials = Credentials(options);
  if (!credentials.ok()) return credentials.status();
  grpc::EnableDefaultHealthCheckService(true);
  auto service = std::make_unique<ImagesService>(options.images, options.tls);
  auto transfer = NewTransferService(options.images);
  grpc::ServerBuilder builder;
  // Without this, gRPC sets SO_REUSEPORT and a second agent would share the port silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int port = 0;
  builder.AddListeningPort(options.listen_address, *credentials, &port);
  builder.RegisterService(service.get());
  builder.RegisterService(transfer.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen_address,
                                               " (address in use or not local?)"));
  }
  return std::make_unique<GrpcAgentServer>(std::move(service), std::move(transfer),
                                           std::move(server), port,
                                           CollectAbandonedReceives(options.images));
}

}  // namespace kim
