// BuildKitService: one build = a session tunnel (opened first), Control.Status on its own thread
// and a blocking Control.Solve; the session is closed after Solve returns and the status stream
// drains by itself.
#include "lib/build/buildkit_client.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/build/attachables.h"
#include "lib/core/grpc_tls.h"
#include "lib/build/oci_layout.h"
#include "lib/build/session_tunnel.h"
#include "lib/build/status_events.h"
#include "moby/buildkit/v1/control.grpc.pb.h"

namespace kim::build {
namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A temporary directory removed with its content when this goes away.
class TempDir {
 public:
  TempDir() = default;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }
  absl::Status Create() {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/kim-dockerfile-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
    }
    path_ = pattern;
    return absl::OkStatus();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Absolute(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  if (ec) return path;
  return abs.lexically_normal().string();
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
        control_(moby::buildkit::v1::Control::NewStub(channel_)) {}

  void Cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    if (solve_context_ != nullptr) solve_context_->TryCancel();
  }

  absl::StatusOr<BuildResult> Build(const BuildOptions& options,
                                    const std::function<void(const BuildEvent&)>& on_event) override {
    {
      std::lock_guard lock(mu_);
      cancelled_ = false;
    }
    // The local directories the daemon will pull (or the archive it downloads).
    const bool archive = static_cast<bool>(options.context_archive);
    TempDir empty_dir, stdin_dir;
    std::string context_dir, dockerfile_dir, dockerfile_name;
    if (archive) {
      if (options.dockerfile == "-") {
        return absl::InvalidArgumentError(
            "invalid argument: can't use stdin for both build context and dockerfile");
      }
      dockerfile_name = options.dockerfile.empty() ? "Dockerfile" : options.dockerfile;
    } else if (options.empty_context) {
      if (absl::Status status = empty_dir.Create(); !status.ok()) return status;
      context_dir = empty_dir.path();
    } else {
      const std::string context_arg = options.context_dir.empty() ? "." : options.context_dir;
      char resolved[PATH_MAX];
      struct stat st {};
      if (realpath(context_arg.c_str(), resolved) == nullptr || stat(resolved, &st) != 0 ||
          !S_ISDIR(st.st_mode)) {
        return absl::InvalidArgumentError(
            absl::StrCat("unable to prepare context: path \"", context_arg, "\" not found"));
      }
      context_dir = resolved;
    }
    if (archive) {
      // The Dockerfile is read from the archive.
    } else if (options.dockerfile == "-" ||
               (options.dockerfile.empty() && !options.dockerfile_content.empty())) {
      if (absl::Status status = stdin_dir.Create(); !status.ok()) return status;
      std::ofstream(stdin_dir.path() + "/Dockerfile", std::ios::binary) << options.dockerfile_content;
      dockerfile_dir = stdin_dir.path();
      dockerfile_name = "Dockerfile";
    } else {
      const std::string path =
          options.dockerfile.empty() ? context_dir + "/Dockerfile" : Absolute(options.dockerfile);
      struct stat dst {};
      if (stat(path.c_str(), &dst) != 0 || !S_ISREG(dst.st_mode) || access(path.c_str(), R_OK) != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unable to prepare context: cannot read Dockerfile \"",
            options.dockerfile.empty()
                ? (options.context_dir.empty() ? "." : options.context_dir) + "/Dockerfile"
                : options.dockerfile,
            "\": ", std::strerror(errno == 0 ? ENOENT : errno)));
      }
      const std::filesystem::path p(path);
      dockerfile_dir = p.parent_path().string();
      dockerfile_name = p.filename().string();
    }
    auto plan = PlanSolve(options, dockerfile_name);
    if (!plan.ok()) return plan.status();

    const std::string ref = NewIdentifier();
    const std::string session_id = NewIdentifier();
    std::vector<SessionMethod> methods;
    auto add = [&](std::vector<SessionMethod> more) {
      for (SessionMethod& method : more) methods.push_back(std::move(method));
    };
    std::map<std::string, std::string> local_dirs = plan->local_contexts;
    if (archive) {
      const std::string upload_id = NewIdentifier();
      plan->frontend_attrs["context"] = "http://buildkit-session/" + upload_id;
      add(UploadMethods(upload_id, options.context_archive));
    } else {
      local_dirs["context"] = context_dir;
      local_dirs["dockerfile"] = dockerfile_dir;
    }
    if (!local_dirs.empty()) add(FileSyncMethods(std::move(local_dirs)));
    add(HealthMethods());
    add(AuthMethods(credentials_));
    if (!options.secrets.empty()) add(SecretsMethods(options.secrets));
    if (!options.ssh.empty()) {
      // Like buildx: no path = $SSH_AUTH_SOCK; one socket = that agent; otherwise key files.
      std::vector<SshForward> agents;
      for (const BuildSsh& ssh : options.ssh) {
        std::vector<std::string> paths = ssh.paths;
        if (paths.empty()) {
          const char* sock = getenv("SSH_AUTH_SOCK");
          if (sock == nullptr || *sock == '\0') {
            return absl::InvalidArgumentError(absl::StrCat(
                "--ssh ", ssh.id, ": no agent socket or key given and SSH_AUTH_SOCK is not set"));
          }
          paths = {sock};
        }
        struct stat sst {};
        if (paths.size() == 1 && stat(paths.front().c_str(), &sst) == 0 && S_ISSOCK(sst.st_mode)) {
          agents.push_back({.id = ssh.id, .socket = paths.front(), .keys = nullptr});
          continue;
        }
        absl::StatusOr<SshKeyring> keys = SshKeyring::Load(paths);
        if (!keys.ok()) {
          return absl::Status(keys.status().code(),
                              absl::StrCat("--ssh ", ssh.id, ": ", keys.status().message()));
        }
        agents.push_back({.id = ssh.id, .socket = "",
                          .keys = std::make_shared<const SshKeyring>(*std::move(keys))});
      }
      add(SshMethods(std::move(agents)));
    }
    std::map<int, FileSendTarget> client_outputs;
    for (size_t i = 0; i < plan->exports.size(); ++i) {
      const PlannedExport& planned = plan->exports[i];
      if (!planned.directory.empty() || !planned.file.empty()) {
        client_outputs[static_cast<int>(i)] = {.directory = planned.directory, .file = planned.file};
      }
      // The oci exporter writes a layout through the session content store it calls "export".
      if (!planned.layout_directory.empty()) add(ContentStoreMethods("export", planned.layout_directory));
    }
    if (!client_outputs.empty()) add(FileSendMethods(std::move(client_outputs)));
    auto tunnel = SessionTunnel::Open(control_.get(), session_id, "kim", std::move(methods));
    if (!tunnel.ok()) return tunnel.status();

    // Progress.
    grpc::ClientContext status_context;
    std::mutex status_mu;
    std::condition_variable status_cv;
    bool status_done = false;
    std::thread status_thread([&] {
      moby::buildkit::v1::StatusRequest request;
      request.set_ref(ref);
      auto reader = control_->Status(&status_context, request);
      moby::buildkit::v1::StatusResponse response;
      while (reader->Read(&response)) {
        for (const BuildEvent& event : DecodeStatus(response)) on_event(event);
      }
      reader->Finish();
      std::lock_guard lock(status_mu);
      status_done = true;
      status_cv.notify_all();
    });

    // The build.
    moby::buildkit::v1::SolveRequest request;
    request.set_ref(ref);
    request.set_session(session_id);
    request.set_frontend("dockerfile.v0");
    for (const auto& [k, v] : plan->frontend_attrs) (*request.mutable_frontendattrs())[k] = v;
    if (plan->exports.size() == 1) {  // fields 3/4: understood by daemons old and new
      request.set_exporter(plan->exports.front().type);
      for (const auto& [k, v] : plan->exports.front().attrs) (*request.mutable_exporterattrs())[k] = v;
    } else {  // several: field 13 (BuildKit 0.13 and later)
      for (const PlannedExport& planned : plan->exports) {
        auto* exporter = request.add_exporters();
        exporter->set_type(planned.type);
        for (const auto& [k, v] : planned.attrs) (*exporter->mutable_attrs())[k] = v;
      }
    }
    // Always present: buildkitd v0.17 dereferences SolveRequest.Cache unconditionally and
    // crashes (nil pointer) when it is missing.
    request.mutable_cache();
    for (const std::string& image : plan->cache_imports) {
      auto* entry = request.mutable_cache()->add_imports();
      entry->set_type("registry");
      (*entry->mutable_attrs())["ref"] = image;
    }
    for (const auto& [type, attrs] : plan->cache_exports) {
      auto* entry = request.mutable_cache()->add_exports();
      entry->set_type(type);
      for (const auto& [k, v] : attrs) (*entry->mutable_attrs())[k] = v;
    }
    for (const std::string& entitlement : plan->entitlements) request.add_entitlements(entitlement);
    moby::buildkit::v1::SolveResponse response;
    grpc::Status solved;
    {
      grpc::ClientContext solve_context;
      bool cancelled_early;
      {
        std::lock_guard lock(mu_);
        cancelled_early = cancelled_;
        solve_context_ = &solve_context;
      }
      if (cancelled_early) {
        solved = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      } else {
        solved = control_->Solve(&solve_context, request, &response);
      }
      std::lock_guard lock(mu_);
      solve_context_ = nullptr;
    }
    (*tunnel)->Close();
    {
      std::unique_lock lock(status_mu);
      if (!status_cv.wait_for(lock, std::chrono::seconds(3), [&] { return status_done; })) {
        status_context.TryCancel();
      }
    }
    status_thread.join();

    if (!solved.ok()) {
      bool cancelled;
      {
        std::lock_guard lock(mu_);
        cancelled = cancelled_;
      }
      if (cancelled) return absl::CancelledError("build cancelled");
      if (solved.error_code() == grpc::StatusCode::UNAVAILABLE) {
        return absl::UnavailableError(absl::StrCat(
            "cannot reach buildkitd at ", address_, ": ", solved.error_message(),
            unreachable_hint_.empty() ? "" : absl::StrCat(" (", unreachable_hint_, ")")));
      }
      std::string hint;
      if (absl::StrContains(solved.error_message(), "entitlement network.host is not allowed")) {
        hint = " (the daemon must allow it: buildkitd --allow-insecure-entitlement network.host)";
      }
      return absl::UnknownError(absl::StrCat("failed to solve: ", solved.error_message(), hint));
    }
    BuildResult result;
    result.exporter_response.insert(response.exporterresponse().begin(),
                                    response.exporterresponse().end());
    if (auto it = result.exporter_response.find("containerimage.config.digest");
        it != result.exporter_response.end()) {
      result.image_id = it->second;
    }
    if (auto it = result.exporter_response.find("containerimage.digest");
        it != result.exporter_response.end()) {
      result.manifest_digest = it->second;
    }
    for (const PlannedExport& planned : plan->exports) {
      if (planned.layout_directory.empty()) continue;
      auto described = result.exporter_response.find("containerimage.descriptor");
      std::string descriptor;
      if (described == result.exporter_response.end() ||
          !absl::Base64Unescape(described->second, &descriptor)) {
        return absl::InternalError("buildkitd did not describe the exported image (too old for tar=false?)");
      }
      std::vector<std::string> names;
      if (auto it = planned.attrs.find("name"); it != planned.attrs.end()) {
        names = absl::StrSplit(it->second, ',', absl::SkipEmpty());
      }
      if (absl::Status status = AddToOciIndex(planned.layout_directory, descriptor, names); !status.ok()) {
        return status;
      }
    }
    return result;
  }

  absl::StatusOr<DaemonVersion> Version() override {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    moby::buildkit::v1::InfoResponse response;
    const grpc::Status status = control_->Info(&context, {}, &response);
    if (!status.ok()) {
      const std::string why = absl::StrCat("buildkitd at ", address_, ": ", status.error_message());
      if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
          status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
        return absl::UnavailableError(absl::StrCat(
            "cannot reach ", why,
            unreachable_hint_.empty() ? "" : absl::StrCat(" (", unreachable_hint_, ")")));
      }
      return absl::UnknownError(why);
    }
    return DaemonVersion{.name = "buildkitd",
                         .version = response.buildkitversion().version(),
                         .revision = response.buildkitversion().revision()};
  }

 private:
  const std::string address_;
  const std::string unreachable_hint_;
  const std::shared_ptr<const CredentialStore> credentials_;
  const std::shared_ptr<void> keep_alive_;  // destroyed after the channel
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<moby::buildkit::v1::Control::Stub> control_;
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

namespace {

// The fields of "k1=v1,k2=v2" (--cache-from, --cache-to) in order; a field without '=' has an
// empty value.
std::vector<std::pair<std::string, std::string>> KeyValueFields(const std::string& value) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (absl::string_view field : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    fields.push_back(absl::StrSplit(field, absl::MaxSplits('=', 1)));
  }
  return fields;
}

}  // namespace

absl::StatusOr<SolvePlan> PlanSolve(const BuildOptions& options, const std::string& dockerfile_name) {
  SolvePlan plan;
  auto& attrs = plan.frontend_attrs;
  attrs["filename"] = dockerfile_name;
  if (!options.target.empty()) attrs["target"] = options.target;
  for (const auto& [k, v] : options.build_args) attrs["build-arg:" + k] = v;
  for (const auto& [k, v] : options.labels) attrs["label:" + k] = v;
  if (!options.platforms.empty()) attrs["platform"] = absl::StrJoin(options.platforms, ",");
  if (options.no_cache) attrs["no-cache"] = "";
  if (options.pull) attrs["image-resolve-mode"] = "pull";
  if (!options.add_hosts.empty()) attrs["add-hosts"] = absl::StrJoin(options.add_hosts, ",");
  for (const std::string& value : options.cache_from) {
    std::string ref = value;
    if (absl::StrContains(value, "=")) {
      ref.clear();
      for (const auto& kv : KeyValueFields(value)) {
        if (kv.first == "type" && kv.second != "registry") {
          return absl::InvalidArgumentError(
              absl::StrCat("--cache-from type \"", kv.second, "\" is not supported (registry only)"));
        }
        if (kv.first == "ref") ref = kv.second;
      }
      if (ref.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("--cache-from \"", value, "\" has no ref"));
      }
    }
    if (std::find(plan.cache_imports.begin(), plan.cache_imports.end(), ref) ==
        plan.cache_imports.end()) {
      plan.cache_imports.push_back(ref);
    }
  }
  if (!plan.cache_imports.empty()) {
    std::vector<std::string> entries;
    for (const std::string& ref : plan.cache_imports) {
      entries.push_back(absl::StrCat(R"({"Type":"registry","Attrs":{"ref":)", JsonString(ref), "}}"));
    }
    attrs["cache-imports"] = absl::StrCat("[", absl::StrJoin(entries, ","), "]");
  }

  for (const std::string& value : options.cache_to) {
    std::map<std::string, std::string> attrs;
    for (auto& [key, field] : KeyValueFields(value)) attrs[key] = std::move(field);
    std::string type = attrs.contains("type") ? attrs["type"] : "registry";
    attrs.erase("type");
    if (type == "registry") {
      if (attrs["ref"].empty()) {
        return absl::InvalidArgumentError(absl::StrCat("--cache-to \"", value, "\" has no ref"));
      }
      if (attrs.contains("mode") && attrs["mode"] != "min" && attrs["mode"] != "max") {
        return absl::InvalidArgumentError(
            absl::StrCat("--cache-to \"", value, "\": mode must be min or max"));
      }
    } else if (type != "inline") {
      return absl::UnimplementedError(absl::StrCat("--cache-to type \"", type,
                                                   "\" is not supported (registry, inline)"));
    }
    plan.cache_exports.emplace_back(type, std::move(attrs));
  }
  if (options.network == "none" || options.network == "host") {
    attrs["force-network-mode"] = options.network;
    if (options.network == "host") plan.entitlements.push_back("network.host");
  } else if (!options.network.empty() && options.network != "default") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --network \"", options.network, "\": use default, none or host"));
  }

  for (const auto& [name, value] : options.build_contexts) {
    if (name.empty() || name == "context" || name == "dockerfile") {
      return absl::InvalidArgumentError(
          absl::StrCat("--build-context name \"", name, "\" is empty or reserved"));
    }
    const bool remote = absl::StartsWith(value, "docker-image://") ||
                        absl::StartsWith(value, "https://") || absl::StartsWith(value, "http://") ||
                        absl::StartsWith(value, "git://") || absl::StartsWith(value, "git@");
    if (remote) {
      attrs["context:" + name] = value;
      continue;
    }
    if (absl::StrContains(value, "://")) {
      return absl::UnimplementedError(absl::StrCat(
          "--build-context ", name, "=", value,
          ": use a directory, docker-image://, a git or an https URL"));
    }
    struct stat st {};
    if (stat(value.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--build-context ", name, ": \"", value, "\" is not a directory"));
    }
    plan.local_contexts[name] = Absolute(value);
    attrs["context:" + name] = "local:" + name;
  }

  if (!options.provenance.empty() && options.provenance != "false") {
    const std::string value = options.provenance == "true" ? "mode=min" : options.provenance;
    if (!absl::StartsWith(value, "mode=min") && !absl::StartsWith(value, "mode=max")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --provenance \"", options.provenance, "\": use true, false, mode=min or mode=max"));
    }
    attrs["attest:provenance"] = value;
  }

  // Each -o is one exporter; the tags name the first image output (or, with none, an image
  // exporter of their own when no other output was asked for, as kim's default).
  bool tags_used = false, stdout_used = false, layout_used = false;
  for (const BuildOutput& output : options.outputs) {
    PlannedExport planned{.type = output.type, .attrs = output.attrs, .directory = "", .file = ""};
    auto& out_attrs = planned.attrs;
    bool push = options.push;
    if (planned.type == "registry") {
      planned.type = "image";
      push = true;
    }
    if (planned.type == "image") {
      std::vector<std::string> names;
      if (!tags_used) names = options.tags;
      tags_used = true;
      if (auto it = out_attrs.find("name"); it != out_attrs.end()) {
        for (absl::string_view name : absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
          names.emplace_back(name);
        }
        out_attrs.erase(it);
      }
      if (auto it = out_attrs.find("push"); it != out_attrs.end()) {
        push = push || it->second == "true" || it->second.empty();
        out_attrs.erase(it);
      }
      if (!names.empty()) {
        out_attrs["name"] = absl::StrJoin(names, ",");
        out_attrs["name-canonical"] = "";
      }
      if (push) {
        if (names.empty()) return absl::InvalidArgumentError("pushing an image needs a name (-t)");
        out_attrs["push"] = "true";
      }
      plan.exports.push_back(std::move(planned));
      continue;
    }
    if (options.push) return absl::InvalidArgumentError("--push works only with an image output");
    auto dest = out_attrs.find("dest");
    if (dest == out_attrs.end() || dest->second.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("output type \"", planned.type, "\" needs dest=<path>"));
    }
    if (planned.type == "local") {
      planned.directory = Absolute(dest->second);
    } else if (planned.type == "tar" || planned.type == "oci" || planned.type == "docker") {
      if (auto tar = out_attrs.find("tar"); tar != out_attrs.end() && tar->second == "false") {
        if (planned.type != "oci") {
          return absl::UnimplementedError(absl::StrCat(
              "output type \"", planned.type, "\" with tar=false is not supported (use type=oci)"));
        }
        if (layout_used) return absl::InvalidArgumentError("only one output can be an OCI layout (tar=false)");
        if (dest->second == "-") return absl::InvalidArgumentError("an OCI layout (tar=false) needs dest=DIR");
        layout_used = true;
        planned.layout_directory = Absolute(dest->second);
      } else if (dest->second == "-") {
        if (stdout_used) return absl::InvalidArgumentError("only one output can go to stdout");
        stdout_used = true;
      }
      if (planned.layout_directory.empty()) planned.file = dest->second == "-" ? "-" : Absolute(dest->second);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown output type \"", planned.type, "\""));
    }
    out_attrs.erase(dest);
    if ((planned.type == "oci" || planned.type == "docker") && !options.tags.empty() &&
        !out_attrs.contains("name")) {
      out_attrs["name"] = absl::StrJoin(options.tags, ",");
    }
    plan.exports.push_back(std::move(planned));
  }
  if (options.outputs.empty() && (!options.tags.empty() || options.export_untagged)) {
    PlannedExport image{.type = "image", .attrs = {}, .directory = "", .file = ""};
    if (!options.tags.empty()) {
      image.attrs["name"] = absl::StrJoin(options.tags, ",");
      image.attrs["name-canonical"] = "";
      if (options.push) image.attrs["push"] = "true";
    }
    plan.exports.push_back(std::move(image));
  }
  return plan;
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
