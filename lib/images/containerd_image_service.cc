// ContainerdImageService: CRI for list, status and pull; containerd's images service for tag and
// remove; its content service for configs, manifests and pull progress.
#include "lib/images/containerd_image_service.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "containerd/services/content/v1/content.grpc.pb.h"
#include "containerd/services/images/v1/images.grpc.pb.h"
#include "k8s/cri/runtime/v1/cri.grpc.pb.h"
#include "kim/digest.h"
#include "kim/platform.h"
#include "kim/reference.h"
#include "lib/images/containerd_archive.h"
#include "lib/images/containerd_blob_source.h"
#include "lib/images/containerd_image_json.h"
#include "lib/images/containerd_inspect.h"
#include "lib/images/containerd_lease.h"
#include "lib/images/containerd_pin.h"
#include "lib/images/containerd_prune.h"
#include "lib/images/containerd_pull.h"
#include "lib/images/containerd_records.h"
#include "lib/images/distribution_receiver.h"
#include "lib/images/distribution_sender.h"
#include "lib/images/containerd_remove_plan.h"
#include "lib/images/image_filter.h"
#include "lib/images/ingest_tracker.h"
#include "lib/images/pull_blobs.h"
#include "lib/images/push_compression.h"
#include "lib/images/registry_client.h"

namespace kim {
namespace {

namespace cri = ::runtime::v1;
namespace images = ::containerd::services::images::v1;
namespace content = ::containerd::services::content::v1;

constexpr absl::Duration kProgressInterval = absl::Milliseconds(100);
constexpr absl::Duration kCriSyncTimeout = absl::Seconds(5);

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

Image FromCri(const cri::Image& image) {
  Image out;
  out.id = image.id();
  out.repo_tags.assign(image.repo_tags().begin(), image.repo_tags().end());
  out.repo_digests.assign(image.repo_digests().begin(), image.repo_digests().end());
  out.size = image.size();
  return out;
}

std::vector<IngestStatus> FromCri(const content::ListStatusesResponse& response) {
  std::vector<IngestStatus> statuses;
  for (const auto& status : response.statuses()) {
    statuses.push_back({status.ref(), status.expected(), status.offset(), status.total()});
  }
  return statuses;
}

class ContainerdImageService final : public ImageService, public ImageReceiver {
 public:
  explicit ContainerdImageService(std::shared_ptr<ContainerdConnection> connection)
      : connection_(std::move(connection)),
        cri_(cri::ImageService::NewStub(connection_->channel())),
        images_(images::Images::NewStub(connection_->channel())),
        content_(content::Content::NewStub(connection_->channel())),
        blobs_(std::make_shared<ContainerdBlobSource>(connection_)) {}

  absl::StatusOr<DaemonVersion> Version() override {
    return DaemonVersion{.name = "containerd", .version = connection_->version()};
  }

  absl::StatusOr<std::vector<Image>> List(const ListOptions& options) override {
    auto all = ListCri();
    if (!all.ok()) return all.status();
    std::vector<Image> listed = FilterImages(*std::move(all), options.filters);
    for (Image& image : listed) image.created = Created(image.id);
    return listed;
  }

  absl::StatusOr<Image> Status(const std::string& image) override {
    auto all = ListCri();
    if (!all.ok()) return all.status();
    auto match = FindImage(*all, image);
    if (!match.ok()) return match.status();
    Image found = (*all)[match->index];
    found.created = Created(found.id);
    return found;
  }

  absl::StatusOr<ImageDetails> Inspect(const std::string& image) override {  // containerd_inspect
    auto found = Status(image);
    if (!found.ok()) return found.status();
    auto record = SourceRecord(*found, "");
    if (!record.ok()) return record.status();
    const auto& target = record->target();
    return InspectContainerdImage(connection_, *blobs_, *std::move(found),
                                  {target.media_type(), target.digest(), target.size()});
  }

  absl::StatusOr<Image> Pull(const std::string& image, const PullOptions& options) override {
    auto parsed = ImageReference::ParseNormalized(image);
    if (!parsed.ok()) return parsed.status();
    const ImageReference reference = parsed->WithDefaultTag();
    if (absl::Status status = CheckPullPlatform(options.platform, HostPlatform()); !status.ok()) {
      return status;
    }

    cri::PullImageRequest request;
    request.mutable_image()->set_image(reference.String());
    if (CredentialsApply(options.credentials, reference)) {
      cri::AuthConfig* auth = request.mutable_auth();
      auth->set_username(options.credentials.username);
      auth->set_password(options.credentials.password);
      auth->set_identity_token(options.credentials.identity_token);
      auth->set_registry_token(options.credentials.registry_token);
      // No server_address: CRI would compare it, as a URL, with the host it contacts
      // ("registry-1.docker.io" for docker.io, the mirror with hosts.toml) and drop the
      // credentials. CredentialsApply has already checked they are for this registry.
    }

    const absl::Time started = absl::Now();
    IngestTracker tracker(options.progress);
    absl::Notification pulled;
    std::thread poller;
    if (options.progress) {
      // Exactly this image's blobs when the registry tells us which they are; otherwise the
      // ingests that appear during the pull (those open before it are someone else's).
      const std::vector<Descriptor> blobs = PullBlobs(
          reference, CredentialsApply(options.credentials, reference) ? options.credentials
                                                                       : RegistryCredentials{});
      if (!blobs.empty()) {
        tracker.WatchBlobs(blobs);
      } else if (auto before = ListIngests(); before.ok()) {
        tracker.IgnoreExisting(*before);
      }
      poller = std::thread([this, &tracker, &pulled] {
        while (!pulled.WaitForNotificationWithTimeout(kProgressInterval)) {
          if (auto statuses = ListIngests(); statuses.ok()) tracker.Observe(*statuses);
        }
      });
    }
    cri::PullImageResponse response;
    grpc::Status status;
    {
      // Cancelling the CRI call cancels containerd's pull: its fetches stop and its lease ends.
      auto context = connection_->NewLongContext();
      std::optional<Cancellation::Registration> registration;
      if (options.cancellation != nullptr) {
        registration.emplace(options.cancellation->OnCancel([&context] { context->TryCancel(); }));
      }
      status = cri_->PullImage(context.get(), request, &response);
    }
    pulled.Notify();
    if (poller.joinable()) poller.join();
    if (options.cancellation != nullptr && options.cancellation->IsCancelled()) {
      if (options.progress) tracker.Finish({});
      return absl::CancelledError(absl::StrCat("pull of ", reference.FamiliarString(), " cancelled"));
    }
    if (!status.ok()) {
      if (options.progress) tracker.Finish({});
      absl::Status failed = FromGrpc(status, "containerd");
      if (absl::IsUnavailable(failed)) {
        // containerd went away mid-pull: its pull ended with the connection, nothing was kept.
        return absl::UnavailableError(absl::StrCat(
            "pull of ", reference.String(), " failed: ", failed.message(),
            "; nothing was tagged: run the pull again once containerd is back"));
      }
      return failed;
    }
    if (options.progress) tracker.Finish(FinalBlobStates(reference, started));
    return Status(reference.String());
  }

  absl::StatusOr<std::string> Push(const std::string& image, const PushOptions& options) override {
    auto parsed = ImageReference::ParseNormalized(image);
    if (!parsed.ok()) return parsed.status();
    const ImageReference target = parsed->WithDefaultTag();
    auto record = GetRecord(target.String());
    if (absl::IsNotFound(record.status())) {
      return absl::NotFoundError(absl::StrCat("image \"", target.FamiliarString(),
                                              "\": not found (tag an image with that name first: "
                                              "kim tag IMAGE ", target.FamiliarString(), ")"));
    }
    if (!record.ok()) return record.status();
    Descriptor root{.media_type = record->target().media_type(),
                    .digest = record->target().digest(),
                    .size = record->target().size()};

    RegistryClientOptions client_options{.host = target.Domain(), .insecure = options.insecure};
    if (CredentialsApply(options.credentials, target)) {
      client_options.credentials = options.credentials;
    }
    auto client = RegistryClient::Create(client_options);
    if (!client.ok()) return client.status();
    // Other repositories of the same registry that name this image likely hold its blobs:
    // the registry can mount them instead of receiving them again.
    // The lease keeps the image's content (the root, and through its gc.ref labels the rest)
    // while it is read, even if the image is removed meanwhile.
    auto lease = ContainerdLease::Create(connection_);
    if (!lease.ok()) return lease.status();
    if (absl::Status held = lease->AddContent(root.digest); !held.ok()) return held;
    if (options.gzip_uncompressed_layers) {
      auto converted = GzipUncompressedLayers(connection_, *blobs_, root, lease->id(),
                                              options.compression_level);
      if (!converted.ok()) return converted.status();
      root = *converted;
    }
    RegistryPushOptions push_options;
    push_options.cancellation = options.cancellation;
    auto names = Status(target.String());
    if (names.ok()) {
      std::vector<std::string> all = names->repo_tags;
      all.insert(all.end(), names->repo_digests.begin(), names->repo_digests.end());
      for (const std::string& name : all) {
        auto other = ImageReference::Parse(name);
        if (other.ok() && other->Domain() == target.Domain() && other->Path() != target.Path()) {
          push_options.mount_from.push_back(other->Path());
        }
      }
    }
    auto digest = (*client)->PushImage(target, root, *blobs_, options.progress, push_options);
    if (!digest.ok()) return digest.status();
    return digest->String();
  }

  absl::Status Save(const std::vector<std::string>& images, const SaveOptions& options,
                    const ByteSink& sink) override {
    return SaveContainerdImages(*this, connection_, images, options, sink);
  }

  absl::StatusOr<std::vector<LoadedImage>> Load(const ByteSource& source) override {
    return LoadContainerdImages(*this, connection_, source);
  }

  absl::StatusOr<Image> Tag(const std::string& source,
                            const std::vector<std::string>& targets) override {
    std::vector<std::string> names;
    for (const std::string& target : targets) {
      auto parsed = ImageReference::ParseNormalized(target);
      if (!parsed.ok()) return parsed.status();
      if (parsed->HasDigest()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "refusing to create a tag with a digest reference: \"", target, "\""));
      }
      names.push_back(parsed->WithDefaultTag().String());
    }

    auto all = ListCri();
    if (!all.ok()) return all.status();
    auto match = FindImage(*all, source);
    if (!match.ok()) return match.status();
    const Image& image = (*all)[match->index];
    auto record = SourceRecord(image, match->reference);
    if (!record.ok()) return record.status();

    auto lease = ContainerdLease::Create(connection_);
    if (!lease.ok()) return lease.status();
    if (absl::Status status = TagAllOrNothing(*connection_, names, *record, lease->id());
        !status.ok()) {
      return status;
    }
    WaitForCri([&](const std::vector<Image>& now) {
      return std::any_of(now.begin(), now.end(), [&](const Image& candidate) {
        return candidate.id == image.id &&
               std::all_of(names.begin(), names.end(), [&](const std::string& name) {
                 return std::find(candidate.repo_tags.begin(), candidate.repo_tags.end(), name) !=
                        candidate.repo_tags.end();
               });
      });
    });
    return Status(image.id);
  }

  std::vector<RemoveResult> Remove(const std::vector<std::string>& arguments,
                                   bool force) override {
    std::vector<RemoveResult> results;
    for (const std::string& argument : arguments) {
      RemoveResult result;
      result.image = argument;
      result.status = RemoveOne(argument, force, result);
      results.push_back(std::move(result));
    }
    return results;
  }

  absl::StatusOr<PruneReport> Prune(const PruneOptions& options) override {
    return PruneContainerdImages(connection_, options);
  }

  absl::StatusOr<std::vector<NodeDistribution>> Distribute(
      const std::vector<std::string>& images, const DistributeOptions& options) override {
    return DistributeContainerdImages(*this, connection_, images, options);
  }

  absl::Status Pin(const std::vector<std::string>& images, bool pinned) override {
    return PinContainerdImages(*this, *connection_, images, pinned);
  }

  absl::StatusOr<std::unique_ptr<ReceiveSession>> BeginReceive(const TransferOffer& offer) override {
    return BeginContainerdReceive(*this, connection_, offer);
  }

  absl::StatusOr<int> CollectAbandonedReceives() override {
    return CollectAbandonedContainerdReceives(*connection_);
  }

 private:
  absl::StatusOr<std::vector<Image>> ListCri() {
    cri::ListImagesResponse response;
    const grpc::Status status = cri_->ListImages(connection_->NewContext().get(), {}, &response);
    if (!status.ok()) return FromGrpc(status, "cannot list images in containerd");
    std::vector<Image> listed;
    listed.reserve(response.images_size());
    for (const auto& image : response.images()) listed.push_back(FromCri(image));
    return listed;
  }

  absl::StatusOr<std::vector<IngestStatus>> ListIngests() {
    content::ListStatusesResponse response;
    const grpc::Status status =
        content_->ListStatuses(connection_->NewContext().get(), {}, &response);
    if (!status.ok()) return FromGrpc(status, "cannot list containerd's ingests");
    return FromCri(response);
  }

  // The config's creation date, InfinitePast when it cannot be read.
  absl::Time Created(const std::string& id) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = created_.find(id); it != created_.end()) return it->second;
    }
    auto config = blobs_->ReadAll(Descriptor{.digest = id});
    if (!config.ok()) return absl::InfinitePast();
    const absl::Time created = ImageConfigCreated(*config);
    std::lock_guard lock(mutex_);
    created_[id] = created;
    return created;
  }

  absl::StatusOr<images::Image> GetRecord(const std::string& name) {
    return GetImageRecord(*connection_, name);
  }

  // A containerd record of `image`: the name it was found by, else any of its names.
  absl::StatusOr<images::Image> SourceRecord(const Image& image, const std::string& found_by) {
    std::vector<std::string> candidates;
    if (!found_by.empty()) candidates.push_back(found_by);
    candidates.insert(candidates.end(), image.repo_tags.begin(), image.repo_tags.end());
    candidates.insert(candidates.end(), image.repo_digests.begin(), image.repo_digests.end());
    candidates.push_back(IdRecordName(image.id));
    absl::Status last = absl::NotFoundError(absl::StrCat("image \"", image.id, "\": not found"));
    for (const std::string& name : candidates) {
      auto record = GetRecord(name);
      if (record.ok()) return record;
      last = record.status();
      if (!absl::IsNotFound(last)) return last;
    }
    return last;
  }

  absl::Status RemoveOne(const std::string& argument, bool force, RemoveResult& result) {
    auto all = ListCri();
    if (!all.ok()) return all.status();
    auto match = FindImage(*all, argument);
    if (!match.ok()) return match.status();
    const Image& image = (*all)[match->index];
    auto plan = PlanRemoval(image, match->reference, force);
    if (!plan.ok()) return plan.status();

    // What the image's records point at: the manifests of its repo digests and of its ID record.
    std::set<std::string> targets;
    for (const std::string& name : image.repo_digests) {
      if (const size_t at = name.find('@'); at != std::string::npos) {
        targets.insert(name.substr(at + 1));
      }
    }
    const std::string id_record = IdRecordName(image.id);
    if (auto record = GetRecord(id_record); record.ok()) {
      targets.insert(record->target().digest());
    }

    std::vector<std::string> doomed = plan->untag;
    if (plan->delete_image) doomed.push_back(id_record);
    for (size_t i = 0; i < doomed.size(); ++i) {
      const bool last = i + 1 == doomed.size();
      auto deleted = DeleteImageRecordIf(*connection_, doomed[i], targets,
                                         plan->delete_image && last);
      if (!deleted.ok()) return deleted.status();
      if (*deleted && doomed[i] != id_record) result.untagged.push_back(doomed[i]);
    }
    if (plan->delete_image) result.deleted.push_back(image.id);

    WaitForCri([&](const std::vector<Image>& now) {
      for (const Image& candidate : now) {
        if (candidate.id != image.id) continue;
        if (plan->delete_image) return false;
        for (const std::string& name : plan->untag) {
          if (std::find(candidate.repo_tags.begin(), candidate.repo_tags.end(), name) !=
                  candidate.repo_tags.end() ||
              std::find(candidate.repo_digests.begin(), candidate.repo_digests.end(), name) !=
                  candidate.repo_digests.end()) {
            return false;
          }
        }
      }
      return true;
    });
    return absl::OkStatus();
  }

  // CRI learns of changes made through the images service from containerd's events, a moment
  // later. Waits until `done` holds for CRI's list, so callers read their own writes.
  void WaitForCri(const std::function<bool(const std::vector<Image>&)>& done) {
    const absl::Time deadline = absl::Now() + kCriSyncTimeout;
    while (true) {
      auto now = ListCri();
      if (!now.ok() || done(*now) || absl::Now() > deadline) return;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

  // The final state of each config and layer of the image `reference` now names: Exists when
  // containerd had the blob before `started`, else Done. Empty when it cannot be worked out.
  std::vector<std::pair<Descriptor, TransferState>> FinalBlobStates(
      const ImageReference& reference, absl::Time started) {
    std::vector<std::pair<Descriptor, TransferState>> states;
    auto record = GetRecord(reference.String());
    if (!record.ok()) return states;
    Descriptor target{.media_type = record->target().media_type(),
                      .digest = record->target().digest(),
                      .size = record->target().size()};
    if (IsIndex(target.media_type)) {
      auto index = blobs_->ReadAll(target);
      if (!index.ok()) return states;
      auto manifests = IndexManifests(*index);
      if (!manifests.ok()) return states;
      const Platform host = HostPlatform();
      auto it = std::find_if(manifests->begin(), manifests->end(), [&](const Descriptor& entry) {
        return entry.platform && entry.platform->Matches(host);
      });
      if (it == manifests->end()) return states;
      target = *it;
    }
    auto manifest = blobs_->ReadAll(target);
    if (!manifest.ok()) return states;
    auto blobs = ManifestBlobs(*manifest);
    if (!blobs.ok()) return states;
    for (const Descriptor& blob : *blobs) {
      content::InfoRequest request;
      request.set_digest(blob.digest);
      content::InfoResponse info;
      const grpc::Status status = content_->Info(connection_->NewContext().get(), request, &info);
      const bool existed = status.ok() && FromTimestamp(info.info().created_at()) < started;
      states.emplace_back(blob, existed ? TransferState::kExists : TransferState::kDone);
    }
    return states;
  }

  std::shared_ptr<ContainerdConnection> connection_;
  std::unique_ptr<cri::ImageService::Stub> cri_;
  std::unique_ptr<images::Images::Stub> images_;
  std::unique_ptr<content::Content::Stub> content_;
  std::shared_ptr<ContainerdBlobSource> blobs_;
  std::mutex mutex_;
  std::map<std::string, absl::Time> created_;  // by image ID; guarded by mutex_
};

}  // namespace

absl::StatusOr<std::unique_ptr<ImageService>> NewContainerdImageService(
    const ContainerdOptions& options) {
  auto connection = ContainerdConnection::Open(options);
  if (!connection.ok()) return connection.status();
  return std::make_unique<ContainerdImageService>(*std::move(connection));
}

}  // namespace kim
