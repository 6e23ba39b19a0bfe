// BuildKitService: one build = its local context and solve plan, a session tunnel (opened
// first), Control.Status on its own thread and a blocking Control.Solve; the session is closed
// after Solve returns and the status stream drains by itself.
#include "lib/build/buildkit_client.h"
#include "lib/build/buildkit_cache.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/build/build_context.h"
#include "lib/build/oci_layout.h"
#include "lib/build/session_methods.h"
#include "lib/build/session_tunnel.h"
#include "lib/build/status_events.h"
#include "lib/core/grpc_tls.h"
#include "moby/buildkit/v1/control.grpc.pb.h"

namespace kim::build {
namespace {

namespace v1 = moby::buildkit::v1;

// Control.Status for one build ref, read on its own thread into `on_event` until the daemon
// ends it or Finish gives up waiting.
class StatusStream {
 public:
  StatusStream(v1::Control::Stub* control, const std::string& ref,
               const std::function<void(const BuildEvent&)>& on_event)
      : thread_([this, control, ref, &on_event] {
          v1::StatusRequest request;
          request.set_ref(ref);
          auto reader = control->Status(&context_, request);
          v1::StatusResponse response;
          while (reader->Read(&response)) {
            for (const BuildEvent& event : DecodeStatus(response)) on_event(event);
          }
          reader->Finish();
          std::lock_guard lock(mu_);
          done_ = true;
          cv_.notify_all();
        }) {}
  StatusStream(const StatusStream&) = delete;
  StatusStream& operator=(const StatusStream&) = delete;
  ~StatusStream() { Finish(); }

  // Waits up to 3 s for the daemon to end the stream (it does once the solve is over), then
  // cancels it; returns when the reader thread has ended.
  void Finish() {
    if (!thread_.joinable()) return;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, std::chrono::seconds(3), [&] { return done_; })) {
        context_.TryCancel();
      }
    }
    thread_.join();
  }

 private:
  grpc::ClientContext context_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: started once the members above exist
};

// The SolveRequest for `plan`, its progress named `ref` and its session `session_id`.
v1::SolveRequest SolveRequestFor(const SolvePlan& plan, const std::string& ref,
                                 const std::string& session_id) {
  v1::SolveRequest request;
  request.set_ref(ref);
  request.set_session(session_id);
  request.set_frontend("dockerfile.v0");
  for (const auto& [k, v] : plan.frontend_attrs) (*request.mutable_frontendattrs())[k] = v;
  if (plan.exports.size() == 1) {  // fields 3/4: understood by daemons old and new
    request.set_exporter(plan.exports.front().type);
    for (const auto& [k, v] : plan.exports.front().attrs) (*request.mutable_exporterattrs())[k] = v;
  } else {  // several: field 13 (BuildKit 0.13 and later)
    for (const PlannedExport& planned : plan.exports) {
      auto* exporter = request.add_exporters();
      exporter->set_type(planned.type);
      for (const auto& [k, v] : planned.attrs) (*exporter->mutable_attrs())[k] = v;
    }
  }
  // Always present: buildkitd v0.17 dereferences SolveRequest.Cache unconditionally and
  // crashes (nil pointer) when it is missing.
  request.mutable_cache();
  for (const std::string& image : plan.cache_imports) {
    auto* entry = request.mutable_cache()->add_imports();
    entry->set_type("registry");
    (*entry->mutable_attrs())["ref"] = image;
  }
  for (const auto& [type, attrs] : plan.cache_exports) {
    auto* entry = request.mutable_cache()->add_exports();
    entry->set_type(type);
    for (const auto& [k, v] : attrs) (*entry->mutable_attrs())[k] = v;
  }
  for (const std::string& entitlement : plan.entitlements) request.add_entitlements(entitlement);
  return request;
}

// What the exporters answered, with the image descriptor decoded once; OCI layouts
// (tar=false) get their index.json entries from it.
absl::StatusOr<BuildResult> ResultOf(const v1::SolveResponse& response, const SolvePlan& plan) {
  BuildResult result;
  result.exporter_response.insert(response.exporterresponse().begin(),
                                  response.exporterresponse().end());
  const auto& answered = result.exporter_response;
  if (auto it = answered.find("containerimage.config.digest"); it != answered.end()) {
    result.image_id = it->second;
  }
  if (auto it = answered.find("containerimage.digest"); it != answered.end()) {
    result.manifest_digest = it->second;
  }
  if (auto it = answered.find("containerimage.descriptor"); it != answered.end()) {
    std::string decoded;
    if (absl::Base64Unescape(it->second, &decoded)) result.image_descriptor = std::move(decoded);
  }
  for (const PlannedExport& planned : plan.exports) {
    if (planned.layout_directory.empty()) continue;
    if (result.image_descriptor.empty()) {
      return absl::InternalError("buildkitd did not describe the exported image (too old for tar=false?)");
    }
    std::vector<std::string> names;
    if (auto it = planned.attrs.find("name"); it != planned.attrs.end()) {
      names = absl::StrSplit(it->second, ',', absl::SkipEmpty());
    }
    if (absl::Status status =
            AddToOciIndex(planned.layout_directory, result.image_descriptor, names);
        !status.ok()) {
      return status;
    }
  }
  return result;
}

class BuildKitService final : public BuildService {
 public:
  BuildKitService(std::string address, std::string unreachable_hint,
                  std::shared_ptr<const CredentialStore> credentials,
                  std::shared_ptr<grpc::Channel> channel, std::shared_ptr<void> keep_alive)
      : address_(std::move(address)),
        unreachable_hint_(std::move(unreachable_hint)),
        credentials_(std::move(credentials)),
        keep_alive_(std::move(keep_alive)),
        channel_(std::move(channel)),
        control_(v1::Control::NewStub(channel_)) {}

  void Cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    if (solve_context_ != nullptr) solve_context_->TryCancel();
  }

  absl::StatusOr<BuildResult> Build(const BuildOptions& options,
                                    const std::function<void(const BuildEvent&)>& on_event) override {
    SetCancelled(false);
    auto context = PrepareLocalContext(options);
    if (!context.ok()) return context.status();
    auto plan = PlanSolve(options, context->dockerfile_name);
    if (!plan.ok()) return plan.status();
    auto methods = SessionMethodsFor(options, *context, credentials_, &*plan);
    if (!methods.ok()) return methods.status();
    const std::string ref = NewIdentifier();
    const std::string session_id = NewIdentifier();
    auto tunnel = SessionTunnel::Open(control_.get(), session_id, "kim", *std::move(methods));
    if (!tunnel.ok()) return tunnel.status();
    StatusStream progress(control_.get(), ref, on_event);
    v1::SolveResponse response;
    const grpc::Status solved = Solve(SolveRequestFor(*plan, ref, session_id), &response);
    (*tunnel)->Close();
    progress.Finish();
    if (!solved.ok()) return SolveError(solved);
    return ResultOf(response, *plan);
  }

  absl::StatusOr<std::vector<BuildCacheRecord>> Prune(const BuildPruneOptions& options) override {
    return CachePrune(*control_, {address_, unreachable_hint_}, options);
  }

  absl::StatusOr<std::vector<BuildCacheRecord>> DiskUsage() override {
    return CacheDiskUsage(*control_, {address_, unreachable_hint_});
  }

  absl::StatusOr<DaemonVersion> Version() override {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::InfoResponse response;
    const grpc::Status status = control_->Info(&context, {}, &response);
    if (!status.ok()) {
      const std::string why = absl::StrCat("buildkitd at ", address_, ": ", status.error_message());
      if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
          status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
        return absl::UnavailableError(absl::StrCat("cannot reach ", why, HintSuffix()));
      }
      return absl::UnknownError(why);
    }
    return DaemonVersion{.name = "buildkitd",
                         .version = response.buildkitversion().version(),
                         .revision = response.buildkitversion().revision()};
  }

 private:
  void SetCancelled(bool cancelled) {
    std::lock_guard lock(mu_);
    cancelled_ = cancelled;
  }
  bool cancelled() {
    std::lock_guard lock(mu_);
    return cancelled_;
  }

  std::string HintSuffix() const {
    return unreachable_hint_.empty() ? "" : absl::StrCat(" (", unreachable_hint_, ")");
  }

  // Control.Solve, cancellable by Cancel (also when Cancel came before the call).
  grpc::Status Solve(const v1::SolveRequest& request, v1::SolveResponse* response) {
    grpc::ClientContext solve_context;
    bool cancelled_early;
    {
      std::lock_guard lock(mu_);
      cancelled_early = cancelled_;
      solve_context_ = &solve_context;
    }
    grpc::Status solved = cancelled_early ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")
                                          : control_->Solve(&solve_context, request, response);
    std::lock_guard lock(mu_);
    solve_context_ = nullptr;
    return solved;
  }

  // A failed solve as Build reports it: Cancelled, Unavailable with the hint, or the daemon's
  // message ("failed to solve: ...") with what to do about a refused entitlement.
  absl::Status SolveError(const grpc::Status& solved) {
    if (cancelled()) return absl::CancelledError("build cancelled");
    if (solved.error_code() == grpc::StatusCode::UNAVAILABLE) {
      return absl::UnavailableError(absl::StrCat("cannot reach buildkitd at ", address_, ": ",
                                                 solved.error_message(), HintSuffix()));
    }
    std::string hint;
    if (absl::StrContains(solved.error_message(), "entitlement network.host is not allowed")) {
      hint = " (the daemon must allow it: buildkitd --allow-insecure-entitlement network.host)";
    }
    return absl::UnknownError(absl::StrCat("failed to solve: ", solved.error_message(), hint));
  }

  const std::string address_;
  const std::string unreachable_hint_;
  const std::shared_ptr<const CredentialStore> credentials_;
  const std::shared_ptr<void> keep_alive_;  // destroyed after the channel
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Control::Stub> control_;
  std::mutex mu_;
  grpc::ClientContext* solve_context_ = nullptr;
  bool cancelled_ = false;
};

}  // namespace

std::string NewIdentifier() {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::random_device device;
  std::mt19937_64 engine((static_cast<uint64_t>(device()) << 32) ^ device());
  std::uniform_int_distribution<int> pick(0, 35);
  std::string id;
  for (int i = 0; i < 25; ++i) id += kAlphabet[pick(engine)];
  return id;
}


absl::StatusOr<std::unique_ptr<BuildService>> NewBuildKitService(const BuildKitOptions& options) {
  std::string target = options.address;
  bool unix_socket = false;
  if (absl::StartsWith(target, "unix://")) {
    unix_socket = true;
  } else if (absl::StartsWith(target, "tcp://")) {
    target = target.substr(6);
  } else if (absl::StrContains(target, "://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported BuildKit address \"", options.address, "\" (use unix://PATH or tcp://HOST:PORT)"));
  }
  while (!target.empty() && target.back() == '/') target.pop_back();
  if (target.empty()) return absl::InvalidArgumentError("empty BuildKit address");

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 1 << 20);  // error trailers carry stacks
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  // A unix socket is plaintext: the file's permissions guard it.
  auto credentials = ClientChannelCredentials(unix_socket ? TlsMaterial{} : options.tls);
  if (!credentials.ok()) return credentials.status();
  if (!unix_socket && !options.tls.empty() && !options.server_name.empty()) {
    args.SetSslTargetNameOverride(options.server_name);
  }
  auto channel = grpc::CreateCustomChannel(target, *credentials, args);
  return std::unique_ptr<BuildService>(
      new BuildKitService(options.address, options.unreachable_hint, options.credentials, channel,
                          options.keep_alive));
}

}  // namespace kim::build
