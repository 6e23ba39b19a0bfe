// Image pruning over CRI's image list, containerd's containers and image records.
#include "lib/images/containerd_prune.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "containerd/services/images/v1/images.grpc.pb.h"
#include "k8s/cri/runtime/v1/cri.grpc.pb.h"
#include "kim/digest.h"
#include "lib/images/containerd_blob_source.h"
#include "lib/images/containerd_image_json.h"
#include "lib/images/containerd_image_users.h"
#include "lib/images/containerd_records.h"
#include "lib/images/descriptor.h"
#include "lib/images/prune_filter.h"

namespace kim {
namespace {

namespace cri = ::runtime::v1;
namespace images = ::containerd::services::images::v1;

constexpr absl::Duration kCriSyncTimeout = absl::Seconds(5);

class Pruner {
 public:
  Pruner(std::shared_ptr<ContainerdConnection> connection, PruneFilter filter)
      : connection_(std::move(connection)),
        filter_(std::move(filter)),
        cri_(cri::ImageService::NewStub(connection_->channel())),
        records_(images::Images::NewStub(connection_->channel())),
        blobs_(connection_) {}

  absl::StatusOr<PruneReport> Run(const PruneOptions& options) {
    auto all = ListCri();
    if (!all.ok()) return all.status();
    auto users = ImageUsers(connection_, *all, &chain_ids_);
    if (!users.ok()) return users.status();
    PruneReport report;
    report.containers = *users;
    for (const Image& image : *all) {
      if (!options.all && !image.repo_tags.empty()) continue;
      if (users->contains(image.id) || !Selected(image)) continue;
      if (options.dry_run) {
        Count(image, report);
        continue;
      }
      PrunedImage pruned{.id = image.id, .size = image.size, .deleted = false};
      const absl::Status status = PruneOne(image, *all, pruned);
      // Whatever happened, the names that went are reported.
      if (pruned.deleted || !pruned.untagged.empty()) report.images.push_back(pruned);
      if (pruned.deleted) report.reclaimed += image.size;
      if (!status.ok()) {
        if (!absl::IsFailedPrecondition(status)) return status;
        report.warnings.push_back(std::string(status.message()));
      }
    }
    if (!options.dry_run) WaitForCri(report);
    return report;
  }

 private:
  absl::StatusOr<std::vector<Image>> ListCri() {
    cri::ListImagesResponse response;
    const grpc::Status status = cri_->ListImages(connection_->NewContext().get(), {}, &response);
    if (!status.ok()) return FromGrpc(status, "cannot list images in containerd");
    std::vector<Image> listed;
    for (const auto& image : response.images()) {
      Image out{.id = image.id(), .size = image.size()};
      out.repo_tags.assign(image.repo_tags().begin(), image.repo_tags().end());
      out.repo_digests.assign(image.repo_digests().begin(), image.repo_digests().end());
      listed.push_back(std::move(out));
    }
    return listed;
  }

  // Whether the filters select `image`; its config is read only when a filter needs it.
  bool Selected(const Image& image) {
    if (filter_.trivial()) return true;
    auto config = blobs_.ReadAll(Descriptor{.digest = image.id});
    if (!config.ok()) return false;  // nothing to match against: leave it
    return filter_.Matches(ImageConfigCreated(*config), ImageConfigLabels(*config));
  }

  // Records `image` as a dry run would remove it.
  static void Count(const Image& image, PruneReport& report) {
    PrunedImage& pruned = report.images.emplace_back();
    pruned.id = image.id;
    pruned.size = image.size;
    pruned.untagged = image.repo_tags;
    pruned.untagged.insert(pruned.untagged.end(), image.repo_digests.begin(),
                           image.repo_digests.end());
    report.reclaimed += image.size;
  }

  // The manifests or indexes `image`'s records point at: those of its repo digests and of its
  // ID record. A record pointing elsewhere belongs to another image now.
  std::set<std::string> Targets(const Image& image) {
    std::set<std::string> targets;
    for (const std::string& name : image.repo_digests) {
      if (const size_t at = name.find('@'); at != std::string::npos) {
        targets.insert(name.substr(at + 1));
      }
    }
    if (auto record = GetImageRecord(*connection_, IdRecordName(image.id));
        record.ok()) {
      targets.insert(record->target().digest());
    }
    // A tag (e.g. one BuildKit made, with no ID record beside it) counts when what it points at
    // is this image's manifest, or an index holding it.
    for (const std::string& tag : image.repo_tags) {
      auto record = GetImageRecord(*connection_, tag);
      if (!record.ok() || targets.contains(record->target().digest())) continue;
      const Descriptor target{.media_type = record->target().media_type(),
                              .digest = record->target().digest(),
                              .size = record->target().size()};
      if (HoldsConfig(target, image.id)) targets.insert(target.digest);
    }
    return targets;
  }

  // Whether manifest or index `target` is (or holds a manifest) of config `id`.
  bool HoldsConfig(const Descriptor& target, const std::string& id) {
    auto document = blobs_.ReadAll(target);
    if (!document.ok()) return false;
    if (IsIndex(target.media_type)) {
      auto entries = IndexManifests(*document);
      if (!entries.ok()) return false;
      return std::any_of(entries->begin(), entries->end(), [&](const Descriptor& entry) {
        return !IsIndex(entry.media_type) && HoldsConfig(entry, id);
      });
    }
    auto blobs = ManifestBlobs(*document);
    return blobs.ok() && !blobs->empty() && (*blobs)[0].digest == id;
  }

  // Names other than `ignore` that point at one of `targets` now (a tag added meanwhile).
  absl::StatusOr<std::vector<std::string>> OtherNames(const std::set<std::string>& targets,
                                                      const std::string& ignore) {
    images::ListImagesRequest request;
    for (const std::string& target : targets) {
      request.add_filters(absl::StrCat("target.digest==", target));
    }
    images::ListImagesResponse response;
    const grpc::Status status =
        records_->List(connection_->NewContext().get(), request, &response);
    if (!status.ok()) return FromGrpc(status, "cannot list image records");
    std::vector<std::string> names;
    for (const auto& record : response.images()) {
      if (record.name() != ignore) names.push_back(record.name());
    }
    return names;
  }

  // Removes `image`'s names, then the image, recording in `pruned` what went.
  absl::Status PruneOne(const Image& image, const std::vector<Image>& all, PrunedImage& pruned) {
    // A container may have been created since the plan was made.
    auto users = ImageUsers(connection_, all, &chain_ids_);
    if (!users.ok()) return users.status();
    if (users->contains(image.id)) return absl::OkStatus();
    const std::set<std::string> targets = Targets(image);
    if (targets.empty()) return absl::OkStatus();  // gone meanwhile
    std::vector<std::string> names = image.repo_tags;
    names.insert(names.end(), image.repo_digests.begin(), image.repo_digests.end());
    for (const std::string& name : names) {
      auto deleted = DeleteImageRecordIf(*connection_, name, targets, false);
      if (!deleted.ok()) return deleted.status();
      if (*deleted) pruned.untagged.push_back(name);
    }
    const std::string id_record = IdRecordName(image.id);
    auto others = OtherNames(targets, id_record);
    if (!others.ok()) return others.status();
    if (!others->empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("image ", ShortImageId(image.id), " was tagged ", (*others)[0],
                       " meanwhile; it was left alone"));
    }
    auto deleted = DeleteImageRecordIf(*connection_, id_record, targets, true);
    if (!deleted.ok()) return deleted.status();
    pruned.deleted = true;
    return absl::OkStatus();
  }

  // CRI learns of record deletions from containerd's events a moment later; waits until its
  // list no longer shows the deleted images, so that callers read their own writes.
  void WaitForCri(const PruneReport& report) {
    std::vector<std::string> deleted;
    for (const PrunedImage& image : report.images) {
      if (image.deleted) deleted.push_back(image.id);
    }
    if (deleted.empty()) return;
    const absl::Time deadline = absl::Now() + kCriSyncTimeout;
    while (absl::Now() < deadline) {
      auto now = ListCri();
      if (!now.ok()) return;
      const bool gone = std::none_of(now->begin(), now->end(), [&](const Image& image) {
        return std::find(deleted.begin(), deleted.end(), image.id) != deleted.end();
      });
      if (gone) return;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

  std::shared_ptr<ContainerdConnection> connection_;
  PruneFilter filter_;
  std::unique_ptr<cri::ImageService::Stub> cri_;
  std::unique_ptr<images::Images::Stub> records_;
  ContainerdBlobSource blobs_;
  std::map<std::string, std::string> chain_ids_;  // image ID -> chain ID, for ImageUsers
};

}  // namespace

absl::StatusOr<PruneReport> PruneContainerdImages(
    const std::shared_ptr<ContainerdConnection>& connection, const PruneOptions& options) {
  auto filter = PruneFilter::Parse(options.filters, absl::Now());
  if (!filter.ok()) return filter.status();
  return Pruner(connection, *std::move(filter)).Run(options);
}

}  // namespace kim
