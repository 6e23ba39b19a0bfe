// RegistryClient::PushImage: the walk of the image, then its blobs (in parallel, mounted from
// another repository when possible, retried like Docker), then its manifests.
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <cpprest/http_client.h>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "kim/units.h"
#include "lib/images/registry_client.h"
#include "lib/images/registry_manifest.h"
#include "lib/images/registry_paths.h"
#include "lib/images/registry_transport.h"

namespace kim {
namespace {

namespace http = web::http;
using registry::BlobPath;
using registry::ManifestPath;
using registry::ManifestReference;
using registry::ShortDigest;
using registry::UploadsPath;
using registry::WithPrefix;
using registry::WithQuery;

// Answers worth another try, as Docker retries a layer: 429 and the 5xx that can pass (not
// 501 Not Implemented or 505). Such errors carry this payload.
constexpr char kRetryable[] = "kim.images/registry-retryable";
constexpr int kAttempts = 4;

bool IsRetryableCode(http::status_code code) {
  return code == 429 || (code >= 500 && code <= 599 && code != 501 && code != 505);
}

absl::Status Retryable(absl::Status status) {
  status.SetPayload(kRetryable, absl::Cord("1"));
  return status;
}

// Runs `attempt` up to kAttempts times while it fails with a retryable error, waiting 0.5 s,
// 1 s, 2 s in between; the last error says how many tries it took.
absl::Status WithRetries(const std::function<absl::Status()>& attempt,
                         const std::atomic<bool>* give_up = nullptr) {
  absl::Status status;
  for (int tried = 1;; ++tried) {
    status = attempt();
    if (status.ok() || !status.GetPayload(kRetryable).has_value()) return status;
    if (tried == kAttempts || (give_up != nullptr && give_up->load())) {
      return absl::Status(status.code(), absl::StrCat(status.message(), " (after ", tried, " tries)"));
    }
    absl::SleepFor(absl::Milliseconds(500) * (1 << (tried - 1)));
  }
}

}  // namespace

class RegistryClient::Push {
 public:
  Push(RegistryClient& client, const ImageReference& target, BlobSource& source,
       const ProgressCallback& progress, const RegistryPushOptions& options)
      : client_(client),
        transport_(*client.transport_),
        target_(target),
        repository_(target.Path()),
        push_scope_(RepositoryScope(target.Path(), "pull,push")),
        source_(source),
        progress_(progress),
        options_(options) {}

  absl::StatusOr<Digest> Run(const Descriptor& root) {
    auto root_digest = Digest::Parse(root.digest);
    if (!root_digest.ok()) return root_digest.status();
    if (target_.HasDigest() && *target_.Digest() != *root_digest) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the image is ", root.digest, ", not the digest ", target_.Digest()->String(),
          " the target names"));
    }
    std::optional<Cancellation::Registration> registration;
    if (options_.cancellation != nullptr) {
      registration.emplace(options_.cancellation->OnCancel([this] {
        cancelled_.store(true);
        failed_.store(true);
      }));
    }
    if (auto status = Walk(root, /*optional=*/false); !status.ok()) return status;
    for (const auto& blob : blobs_) Report(blob, TransferState::kWaiting, 0);
    // Authenticate once before the parallel part (and fail early when we cannot).
    if (auto status = Ping(); !status.ok()) return status;
    absl::Status pushed = PushBlobs();
    if (cancelled_.load()) return absl::CancelledError("push cancelled");
    if (!pushed.ok()) return pushed;
    for (size_t i = 0; i < manifests_.size(); ++i) {
      if (cancelled_.load()) return absl::CancelledError("push cancelled");
      const bool is_root = i + 1 == manifests_.size();
      const std::string reference =
          is_root && target_.HasTag() ? target_.Tag() : manifests_[i].descriptor.digest;
      absl::Status status = WithRetries([&] { return PutManifest(manifests_[i], reference); });
      if (!status.ok()) return status;
    }
    return *root_digest;
  }

 private:
  struct Manifest {
    Descriptor descriptor;
    std::string bytes;
  };

  // Collects manifests (post-order) and blobs (deduplicated) under `descriptor`. An index entry
  // the source does not have is left out (`optional`).
  absl::Status Walk(const Descriptor& descriptor, bool optional) {
    if (!seen_manifests_.insert(descriptor.digest).second) return absl::OkStatus();
    auto bytes = source_.ReadAll(descriptor);
    if (!bytes.ok()) {
      if (optional && absl::IsNotFound(bytes.status())) return absl::OkStatus();
      return absl::Status(bytes.status().code(),
                          absl::StrCat("manifest ", ShortDigest(descriptor.digest), ": ",
                                       bytes.status().message()));
    }
    Manifest manifest{descriptor, *std::move(bytes)};
    if (manifest.descriptor.media_type.empty()) {
      manifest.descriptor.media_type = ManifestMediaType(manifest.bytes);
    }
    auto references =
        ParseManifestReferences(manifest.descriptor.media_type, manifest.bytes);
    if (!references.ok()) {
      return absl::Status(references.status().code(),
                          absl::StrCat("manifest ", ShortDigest(descriptor.digest), ": ",
                                       references.status().message()));
    }
    for (const auto& child : references->manifests) {
      if (auto status = Walk(child, /*optional=*/true); !status.ok()) return status;
    }
    if (references->config) AddBlob(*references->config);
    for (const auto& layer : references->layers) AddBlob(layer);
    manifests_.push_back(std::move(manifest));
    return absl::OkStatus();
  }

  void AddBlob(const Descriptor& blob) {
    if (seen_blobs_.insert(blob.digest).second) blobs_.push_back(blob);
  }

  absl::Status Ping() {
    auto response = transport_.Send(RegistryRequest{
        .method = http::methods::GET, .target = "/v2/", .scopes = {push_scope_}});
    if (!response.ok()) return response.status();
    // Some registries answer 404 on /v2/ behind proxies; only auth matters here.
    return absl::OkStatus();
  }

  absl::Status PushBlobs() {
    std::atomic<size_t> next{0};
    std::mutex error_mutex;
    absl::Status first_error;
    auto worker = [&] {
      while (!failed_.load()) {
        const size_t i = next.fetch_add(1);
        if (i >= blobs_.size()) return;
        absl::Status status = WithRetries([&] { return PushBlob(blobs_[i]); }, &failed_);
        if (!status.ok()) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (first_error.ok()) first_error = status;
          failed_.store(true);
        }
      }
    };
    const size_t threads =
        std::min(blobs_.size(), static_cast<size_t>(client_.options_.max_concurrent_uploads));
    std::vector<std::thread> pool;
    for (size_t i = 1; i < threads; ++i) pool.emplace_back(worker);
    worker();
    for (auto& thread : pool) thread.join();
    return first_error;
  }

  std::string BlobName(const Descriptor& blob) const {
    return absl::StrCat("blob ", ShortDigest(blob.digest), " (", HumanSize(blob.size), ")");
  }

  absl::Status BlobError(const Descriptor& blob, const absl::Status& status) const {
    return absl::Status(status.code(),
                        absl::StrCat(BlobName(blob), ": ", status.message()));
  }

  absl::Status Unexpected(const Descriptor& blob, std::string_view step,
                          const http::http_response& response) const {
    const std::string body = BodyOf(response);
    const auto code = response.status_code();
    const std::string text =
        absl::StrCat(BlobName(blob), ": ", std::string(step), ": registry ", client_.options_.host,
                     " answered ", DescribeResponse(response, body));
    if (code == http::status_codes::BadRequest) return absl::InvalidArgumentError(text);
    if (code == http::status_codes::NotFound) return absl::NotFoundError(text);
    if (IsRetryableCode(code)) return Retryable(absl::UnavailableError(text));
    if (code >= 500) return absl::UnavailableError(text);
    return absl::UnknownError(text);
  }

  absl::Status PushBlob(const Descriptor& blob) {
    auto exists = transport_.Send(RegistryRequest{
        .method = http::methods::HEAD,
        .target = BlobPath(repository_, blob.digest),
        .scopes = {push_scope_},
    });
    if (!exists.ok()) return BlobError(blob, exists.status());
    if (exists->status_code() == http::status_codes::OK) {
      Report(blob, TransferState::kExists, blob.size);
      return absl::OkStatus();
    }
    if (exists->status_code() != http::status_codes::NotFound) {
      return Unexpected(blob, "checking for it", *exists);
    }
    std::string location;
    for (const std::string& from : MountCandidates(blob)) {
      auto mounted = TryMount(blob, from, location);
      if (!mounted.ok()) return mounted.status();
      if (*mounted) {
        Report(blob, TransferState::kMounted, blob.size);
        return absl::OkStatus();
      }
      if (!location.empty()) break;  // the registry opened an upload instead; use it
    }
    if (location.empty()) {
      auto started = transport_.Send(RegistryRequest{
          .method = http::methods::POST,
          .target = UploadsPath(repository_),
          .scopes = {push_scope_},
      });
      if (!started.ok()) return BlobError(blob, started.status());
      if (started->status_code() != http::status_codes::Accepted) {
        return Unexpected(blob, "starting the upload", *started);
      }
      location = HeaderValue(*started, "Location");
      if (location.empty()) {
        return BlobError(blob, absl::UnknownError(absl::StrCat(
                                   "registry ", client_.options_.host,
                                   " started an upload without a Location")));
      }
    }
    return Upload(blob, location);
  }

  // Repositories of this registry to try a mount from: the blob's annotation, then the caller's.
  std::vector<std::string> MountCandidates(const Descriptor& blob) const {
    std::vector<std::string> candidates;
    auto add = [&](std::string_view candidate) {
      std::string repository(absl::StripAsciiWhitespace(std::string(candidate)));
      const std::string host_prefix = client_.options_.host + "/";
      if (repository.starts_with(host_prefix)) repository = repository.substr(host_prefix.size());
      if (repository.empty() || repository == repository_) return;
      // A first segment with '.' or ':' names another registry: mounts cannot cross registries.
      const std::string first = repository.substr(0, repository.find('/'));
      if (repository.find('/') != std::string::npos &&
          (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
           first == "localhost")) {
        return;
      }
      for (const auto& seen : candidates) {
        if (seen == repository) return;
      }
      candidates.push_back(std::move(repository));
    };
    if (auto it = blob.annotations.find(kMountFromAnnotation); it != blob.annotations.end()) {
      for (absl::string_view part : absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
        add(std::string(part));
      }
    }
    if (options_.mount_from_for) {
      for (const auto& from : options_.mount_from_for(blob)) add(from);
    }
    for (const auto& from : options_.mount_from) add(from);
    return candidates;
  }

  // POST ?mount=&from=: true when mounted (201); false with `location` set when the registry
  // opened an upload instead (202).
  absl::StatusOr<bool> TryMount(const Descriptor& blob, const std::string& from,
                                std::string& location) {
    const std::string target =
        WithQuery(WithQuery(UploadsPath(repository_), "mount", blob.digest), "from", from);
    auto response = transport_.Send(RegistryRequest{
        .method = http::methods::POST,
        .target = target,
        .scopes = {push_scope_, RepositoryScope(from, "pull")},
    });
    if (!response.ok()) {
      // Not allowed to read `from`: just upload.
      if (absl::IsPermissionDenied(response.status())) return false;
      return BlobError(blob, response.status());
    }
    if (response->status_code() == http::status_codes::Created) return true;
    if (response->status_code() == http::status_codes::Accepted) {
      location = HeaderValue(*response, "Location");
      return false;
    }
    return Unexpected(blob, absl::StrCat("mounting it from ", from), *response);
  }

  absl::Status Upload(const Descriptor& blob, std::string location) {
    const size_t chunk_size = client_.options_.chunk_size;
    if (blob.size <= static_cast<int64_t>(chunk_size)) {
      auto content = source_.ReadAll(blob);
      if (!content.ok()) return BlobError(blob, content.status());
      if (failed_.load()) return absl::CancelledError("another blob failed");
      Report(blob, TransferState::kTransferring, 0);
      auto response = transport_.Send(RegistryRequest{
          .method = http::methods::PUT,
          .target = WithQuery(location, "digest", blob.digest),
          .scopes = {push_scope_},
          .has_body = true,
          .body = *content,
          .content_type = "application/octet-stream",
      });
      if (!response.ok()) return BlobError(blob, response.status());
      if (response->status_code() != http::status_codes::Created) {
        return Unexpected(blob, "uploading it", *response);
      }
      Report(blob, TransferState::kDone, blob.size);
      return absl::OkStatus();
    }
    int64_t offset = 0;
    Report(blob, TransferState::kTransferring, 0);
    // Sources hand out pieces of whatever size they read (containerd: its stream's messages);
    // gather them into chunk_size PATCHes, so that a blob takes as few requests as it can.
    std::string pending;
    pending.reserve(chunk_size);
    auto send_chunk = [&](std::string_view chunk) -> absl::Status {
          if (failed_.load()) return absl::CancelledError("another blob failed");
          auto response = transport_.Send(RegistryRequest{
              .method = http::methods::PATCH,
              .target = location,
              .scopes = {push_scope_},
              .headers = {{"Content-Range",
                           absl::StrCat(offset, "-", offset + static_cast<int64_t>(chunk.size()) -
                                                         1)}},
              .has_body = true,
              .body = chunk,
              .content_type = "application/octet-stream",
          });
          if (!response.ok()) return BlobError(blob, response.status());
          if (response->status_code() != http::status_codes::Accepted) {
            return Unexpected(blob, absl::StrCat("uploading bytes from ", offset), *response);
          }
          const std::string next = HeaderValue(*response, "Location");
          if (!next.empty()) location = next;
          offset += static_cast<int64_t>(chunk.size());
          Report(blob, TransferState::kTransferring, offset);
          return absl::OkStatus();
        };
    absl::Status read = source_.ReadChunks(
        blob, chunk_size, [&](std::string_view piece) -> absl::Status {
          while (!piece.empty()) {
            const size_t n = std::min(piece.size(), chunk_size - pending.size());
            pending.append(piece.data(), n);
            piece.remove_prefix(n);
            if (pending.size() == chunk_size) {
              if (absl::Status sent = send_chunk(pending); !sent.ok()) return sent;
              pending.clear();
            }
          }
          return absl::OkStatus();
        });
    if (read.ok() && !pending.empty()) read = send_chunk(pending);
    if (!read.ok()) {
      // Errors of the sink already name the blob; the source's do not.
      if (absl::StartsWith(read.message(), "blob ")) return read;
      return BlobError(blob, read);
    }
    Report(blob, TransferState::kVerifying, offset);
    auto response = transport_.Send(RegistryRequest{
        .method = http::methods::PUT,
        .target = WithQuery(location, "digest", blob.digest),
        .scopes = {push_scope_},
    });
    if (!response.ok()) return BlobError(blob, response.status());
    if (response->status_code() != http::status_codes::Created) {
      return Unexpected(blob, "completing the upload", *response);
    }
    Report(blob, TransferState::kDone, blob.size);
    return absl::OkStatus();
  }

  absl::Status PutManifest(const Manifest& manifest, const std::string& reference) {
    const Descriptor& descriptor = manifest.descriptor;
    auto response = transport_.Send(RegistryRequest{
        .method = http::methods::PUT,
        .target = ManifestPath(repository_, reference),
        .scopes = {push_scope_},
        .has_body = true,
        .body = manifest.bytes,
        .content_type = descriptor.media_type,
    });
    const std::string what = absl::StrCat("manifest ", ShortDigest(descriptor.digest));
    if (!response.ok()) {
      return absl::Status(response.status().code(),
                          absl::StrCat(what, ": ", response.status().message()));
    }
    if (response->status_code() != http::status_codes::Created) {
      const std::string body = BodyOf(*response);
      const std::string text = absl::StrCat(what, ": registry ", client_.options_.host,
                                            " answered ", DescribeResponse(*response, body));
      if (response->status_code() == http::status_codes::BadRequest) {
        return absl::InvalidArgumentError(text);
      }
      if (IsRetryableCode(response->status_code())) return Retryable(absl::UnavailableError(text));
      return absl::UnknownError(text);
    }
    const std::string confirmed = HeaderValue(*response, "Docker-Content-Digest");
    if (!confirmed.empty() && confirmed != descriptor.digest) {
      return absl::DataLossError(absl::StrCat(what, ": registry ", client_.options_.host,
                                              " stored it as ", confirmed));
    }
    return absl::OkStatus();
  }

  void Report(const Descriptor& blob, TransferState state, int64_t offset) {
    if (!progress_) return;
    std::lock_guard<std::mutex> lock(progress_mutex_);
    progress_(BlobProgress{.digest = blob.digest,
                           .media_type = blob.media_type,
                           .state = state,
                           .offset = offset,
                           .total = blob.size});
  }

  RegistryClient& client_;
  RegistryTransport& transport_;
  const ImageReference& target_;
  const std::string repository_;
  const std::string push_scope_;
  BlobSource& source_;
  const ProgressCallback& progress_;
  const RegistryPushOptions& options_;

  std::set<std::string> seen_manifests_;
  std::set<std::string> seen_blobs_;
  std::vector<Manifest> manifests_;
  std::vector<Descriptor> blobs_;
  std::atomic<bool> failed_{false};     // stops the other uploads at their next chunk
  std::atomic<bool> cancelled_{false};  // the caller cancelled
  std::mutex progress_mutex_;
};

absl::StatusOr<Digest> RegistryClient::PushImage(const ImageReference& target,
                                                 const Descriptor& root, BlobSource& source,
                                                 const ProgressCallback& progress,
                                                 const RegistryPushOptions& options) {
  const std::string prefix = absl::StrCat("push to ", target.Name());
  if (auto status = CheckDomain(target); !status.ok()) return WithPrefix(status, prefix);
  Push push(*this, target, source, progress, options);
  auto pushed = push.Run(root);
  if (!pushed.ok()) return WithPrefix(pushed.status(), prefix);
  return pushed;
}

}  // namespace kim
