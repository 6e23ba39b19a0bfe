// ContainerdReceiveSession: the offer checked, the blobs the node has held under the lease, the
// wanted ones written in order, then labels, records and CRI's view.
#include "lib/images/distribution_receiver.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "kim/digest.h"
#include "kim/platform.h"
#include "kim/reference.h"
#include "lib/images/containerd_archive.h"
#include "lib/images/containerd_blob_source.h"
#include "lib/images/containerd_content_info.h"
#include "lib/images/containerd_content_writer.h"
#include "lib/images/containerd_image_json.h"
#include "lib/images/containerd_inspect.h"
#include "lib/images/containerd_lease.h"
#include "lib/images/containerd_records.h"

namespace kim {
namespace {

namespace images = ::containerd::services::images::v1;

absl::Status CheckName(const std::string& name) {
  if (name.starts_with("sha256:")) {  // the image ID record
    auto digest = Digest::Parse(name);
    return digest.ok() ? absl::OkStatus()
                       : absl::InvalidArgumentError(absl::StrCat("offered image name \"", name,
                                                                 "\": ", digest.status().message()));
  }
  auto reference = ImageReference::ParseNormalized(name);
  if (!reference.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("offered image name \"", name, "\": ", reference.status().message()));
  }
  return absl::OkStatus();
}

// An offer the receiver can act on: blobs with valid digests, images with valid names whose
// targets are among the blobs.
absl::Status CheckOffer(const TransferOffer& offer) {
  if (offer.images.empty()) return absl::InvalidArgumentError("the offer names no image");
  std::set<std::string> digests;
  for (const Descriptor& blob : offer.blobs) {
    if (auto digest = Digest::Parse(blob.digest); !digest.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("offered blob \"", blob.digest, "\": ", digest.status().message()));
    }
    if (blob.size < 0) {
      return absl::InvalidArgumentError(absl::StrCat("offered blob ", blob.digest, " has size ", blob.size));
    }
    digests.insert(blob.digest);
  }
  for (const OfferedImage& image : offer.images) {
    if (image.names.empty()) return absl::InvalidArgumentError("an offered image has no name");
    for (const std::string& name : image.names) {
      if (absl::Status status = CheckName(name); !status.ok()) return status;
    }
    if (!digests.contains(image.target.digest)) {
      return absl::InvalidArgumentError(absl::StrCat("offered image ", image.names.front(),
                                                     ": its target ", image.target.digest,
                                                     " is not among the offered blobs"));
    }
  }
  return absl::OkStatus();
}

class ContainerdReceiveSession final : public ReceiveSession {
 public:
  ContainerdReceiveSession(ImageService& service,
                           std::shared_ptr<const ContainerdConnection> connection,
                           TransferOffer offer, ContainerdLease lease)
      : service_(service), connection_(std::move(connection)), blobs_(connection_),
        offer_(std::move(offer)), lease_(std::move(lease)) {}

  // Holds every offered blob the node has under the lease (first, so that none can be
  // collected between the check and the naming) and lists those it lacks.
  absl::Status Start() {
    std::set<std::string> seen;
    for (const Descriptor& blob : offer_.blobs) {
      if (!seen.insert(blob.digest).second) continue;
      if (absl::Status held = lease_.AddContent(blob.digest); !held.ok()) return held;
      auto exists = ContentExists(*connection_, blob.digest);
      if (!exists.ok()) return exists.status();
      if (!*exists) missing_.push_back(blob);
    }
    return absl::OkStatus();
  }

  const std::vector<Descriptor>& missing() const override { return missing_; }

  absl::Status Write(const std::string& digest, int64_t offset, std::string_view data) override {
    if (next_ >= missing_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("blob ", digest, " was not asked for (every wanted blob is in)"));
    }
    const Descriptor& blob = missing_[next_];
    if (digest != blob.digest) {
      return absl::InvalidArgumentError(absl::StrCat("blob ", digest, " came while blob ",
                                                     blob.digest, " was expected (", offset_,
                                                     " of its ", blob.size, " bytes in)"));
    }
    if (offset != offset_) {
      return absl::InvalidArgumentError(absl::StrCat("blob ", digest, ": a piece at offset ",
                                                     offset, " came after ", offset_, " bytes"));
    }
    if (offset_ + static_cast<int64_t>(data.size()) > blob.size) {
      return absl::DataLossError(absl::StrCat("blob ", digest, " is longer than its ", blob.size,
                                              " bytes; nothing was named"));
    }
    if (offset_ == 0 && !writing_) {
      auto writer = ContainerdContentWriter::Open(
          connection_, lease_.id(),
          absl::StrCat("kim-receive-", lease_.id(), "-", absl::StripPrefix(digest, "sha256:")),
          digest, blob.size);
      if (!writer.ok()) return writer.status();
      writer_ = *std::move(writer);  // null: the store got the blob meanwhile
      writing_ = true;
    }
    if (writer_ != nullptr && !data.empty()) {
      if (absl::Status status = writer_->Write(data); !status.ok()) return status;
    }
    offset_ += static_cast<int64_t>(data.size());
    return offset_ == blob.size ? FinishBlob(blob) : absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> Commit() override {
    if (next_ < missing_.size()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the sender committed before blob ", missing_[next_].digest, " was complete (",
          offset_, " of its ", missing_[next_].size, " bytes in); nothing was named"));
    }
    // Everything is checked and labelled before any name is created.
    for (const OfferedImage& image : offer_.images) {
      if (absl::Status status = LabelTarget(image.target, image.names.front(), true); !status.ok()) {
        return status;
      }
    }
    std::vector<std::string> named;
    for (const OfferedImage& image : offer_.images) {
      images::Image record;
      record.mutable_target()->set_media_type(image.target.media_type);
      record.mutable_target()->set_digest(image.target.digest);
      record.mutable_target()->set_size(image.target.size);
      (*record.mutable_labels())[kCriManagedLabel] = "managed";
      if (offer_.pin) (*record.mutable_labels())[kCriPinnedLabel] = "pinned";
      if (absl::Status status = TagAllOrNothing(*connection_, image.names, record, lease_.id(),
                                                /*set_labels=*/true);
          !status.ok()) {
        return status;
      }
      for (const std::string& name : image.names) {
        // CRI lists digest names as name@digest without the tag that BuildKit's canonical
        // records carry (name:tag@digest): waiting for those would only run into the timeout.
        if (name.find('@') == std::string::npos) WaitUntilListed(service_, name);
        if (!name.starts_with("sha256:")) named.push_back(name);  // not the ID record
      }
    }
    return named;
  }

 private:
  // The last byte of the current blob is in: containerd checks size and digest as it commits.
  absl::Status FinishBlob(const Descriptor& blob) {
    if (writer_ != nullptr) {
      auto committed = writer_->Commit();
      writer_.reset();
      if (absl::IsDataLoss(committed.status())) {
        const std::string why(absl::StripPrefix(committed.status().message(),
                                                absl::StrCat("blob ", blob.digest, ": ")));
        return absl::DataLossError(absl::StrCat("blob ", blob.digest,
                                                ": digest mismatch: the bytes received are not "
                                                "that blob (containerd: ", why,
                                                "); nothing was named"));
      }
      if (!committed.ok()) return committed.status();
    }
    writing_ = false;
    offset_ = 0;
    ++next_;
    return absl::OkStatus();
  }

  // Checks that `target`'s closure is complete on the node and labels it for the garbage
  // collector. `required`: the image must run here, so an index needs the node's platform.
  absl::Status LabelTarget(const Descriptor& target, const std::string& image, bool required) {
    auto json = blobs_.ReadAll(target);
    if (!json.ok()) return json.status();
    if (!IsIndex(target.media_type)) return LabelManifest(target, *json, image);
    auto entries = IndexManifests(*json);
    if (!entries.ok()) return absl::InvalidArgumentError(absl::StrCat("image ", image, ": ", entries.status().message()));
    if (absl::Status status = LabelContent(*connection_, lease_.id(), target.digest, IndexGcLabels(*entries));
        !status.ok()) {
      return status;
    }
    const Platform host = HostPlatform();
    bool runnable = false;
    for (const Descriptor& entry : *entries) {
      auto exists = ContentExists(*connection_, entry.digest);
      if (!exists.ok()) return exists.status();
      if (!*exists) continue;  // a platform neither node has
      if (absl::Status status = LabelTarget(entry, image, false); !status.ok()) return status;
      runnable = runnable || IsIndex(entry.media_type) || (entry.platform && entry.platform->Matches(host));
    }
    if (required && !runnable) {
      return absl::FailedPreconditionError(absl::StrCat(
          "image ", image, " has no manifest for this node's platform ", host.String(),
          " (the sending node has none); nothing was named"));
    }
    return absl::OkStatus();
  }

  // A manifest's config and layers must all be on the node; labels it and its layers.
  absl::Status LabelManifest(const Descriptor& manifest, const std::string& json,
                             const std::string& image) {
    auto blobs = ManifestBlobs(json);
    if (!blobs.ok()) return absl::InvalidArgumentError(absl::StrCat("image ", image, ": ", blobs.status().message()));
    for (const Descriptor& blob : *blobs) {
      auto exists = ContentExists(*connection_, blob.digest);
      if (!exists.ok()) return exists.status();
      if (!*exists) {
        return absl::DataLossError(absl::StrCat("image ", image, ": blob ", blob.digest, " of manifest ",
                                                manifest.digest, " was neither on this node nor sent; nothing was named"));
      }
    }
    auto config = blobs_.ReadAll(blobs->front());
    const std::vector<std::string> diff_ids = config.ok() ? ConfigDiffIds(*config) : std::vector<std::string>{};
    if (diff_ids.size() + 1 == blobs->size()) {
      for (size_t i = 1; i < blobs->size(); ++i) {
        if (absl::Status status = LabelContent(*connection_, lease_.id(), (*blobs)[i].digest,
                                               {{kUncompressedLabel, diff_ids[i - 1]}});
            !status.ok()) {
          return status;
        }
      }
    }
    return LabelContent(*connection_, lease_.id(), manifest.digest, ManifestGcLabels(*blobs));
  }

  ImageService& service_;
  std::shared_ptr<const ContainerdConnection> connection_;
  ContainerdBlobSource blobs_;
  TransferOffer offer_;
  ContainerdLease lease_;
  std::vector<Descriptor> missing_;
  size_t next_ = 0;       // index in missing_ of the blob being received
  int64_t offset_ = 0;    // its bytes received so far
  bool writing_ = false;  // its ingest is open (or it turned out to be there already)
  std::unique_ptr<ContainerdContentWriter> writer_;
};

// This process as receive leases name it: "<PID namespace>:<PID>".
std::string ThisReceiver() {
  std::error_code error;
  const std::string ns = std::filesystem::read_symlink("/proc/self/ns/pid", error).string();
  return absl::StrCat(ns, ":", getpid());
}

// Whether the receiver `owner` (ThisReceiver of some agent) is a live process other than this
// one, in this PID namespace. An agent in another namespace (another pod) cannot be seen: it
// counts as gone, as the node's previous agent is when a new one starts.
bool ReceiverAlive(const std::string& owner) {
  const size_t colon = owner.rfind(':');
  int pid = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(owner.substr(colon + 1), &pid) || pid <= 0) {
    return false;
  }
  std::error_code error;
  const std::string ns = std::filesystem::read_symlink("/proc/self/ns/pid", error).string();
  if (error || owner.substr(0, colon) != ns || pid == getpid()) return false;
  return kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReceiveSession>> BeginContainerdReceive(
    ImageService& service, std::shared_ptr<const ContainerdConnection> connection,
    const TransferOffer& offer) {
  if (absl::Status status = CheckOffer(offer); !status.ok()) return status;
  auto lease = ContainerdLease::Create(connection, absl::Hours(1),
                                       {{kReceiveLeaseLabel, offer.images.front().names.front()},
                                        {kReceiverLabel, ThisReceiver()}});
  if (!lease.ok()) return lease.status();
  // Whatever this receive wrote goes with the lease unless an image names it.
  lease->CollectOnRelease();
  auto session = std::make_unique<ContainerdReceiveSession>(service, std::move(connection), offer,
                                                            *std::move(lease));
  if (absl::Status status = session->Start(); !status.ok()) return status;
  return session;
}

absl::StatusOr<int> CollectAbandonedContainerdReceives(const ContainerdConnection& connection) {
  // A receive of another agent that still runs beside this one (several agents on one
  // containerd: tests, or two pods of a node during a change of role) keeps its lease.
  return DeleteLeasesLabelled(connection, kReceiveLeaseLabel,
                              [](const std::map<std::string, std::string>& labels) {
                                auto it = labels.find(kReceiverLabel);
                                return it != labels.end() && ReceiverAlive(it->second);
                              });
}

}  // namespace kim
