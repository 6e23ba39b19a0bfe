// PlanDistribution: records grouped by target, closures walked through the content store.
#include "lib/images/distribution_plan.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "kim/platform.h"
#include "kim/reference.h"
#include "lib/images/containerd_content_info.h"
#include "lib/images/containerd_image_json.h"
#include "lib/images/containerd_records.h"

namespace kim {
namespace {

// Walks the closure of one target into `out`. `required`: every blob must be here (the node's
// own platform); otherwise an incomplete manifest makes the walk return false and add nothing.
class ClosureWalk {
 public:
  ClosureWalk(const ContainerdConnection& connection, BlobSource& blobs, std::string image)
      : connection_(connection), blobs_(blobs), image_(std::move(image)) {}

  absl::StatusOr<bool> Add(const Descriptor& target, bool required, std::vector<Descriptor>& out) {
    auto json = blobs_.ReadAll(target);
    if (absl::IsNotFound(json.status()) && !required) return false;
    if (!json.ok()) return Missing(target, json.status());
    if (!IsIndex(target.media_type)) return AddManifest(target, *json, required, out);
    auto entries = IndexManifests(*json);
    if (!entries.ok()) return absl::FailedPreconditionError(absl::StrCat("image ", image_, ": ", entries.status().message()));
    std::vector<Descriptor> closure = {target};
    const Platform host = HostPlatform();
    bool runnable = false;
    for (const Descriptor& entry : *entries) {
      const bool own = entry.platform && entry.platform->Matches(host);
      std::vector<Descriptor> child;
      auto complete = Add(entry, required && own, child);
      if (!complete.ok()) return complete.status();
      if (!*complete) continue;
      runnable = runnable || own || IsIndex(entry.media_type);
      closure.insert(closure.end(), child.begin(), child.end());
    }
    if (required && !runnable) {
      return absl::FailedPreconditionError(absl::StrCat(
          "image ", image_, " has no manifest for this node's platform ", host.String()));
    }
    out.insert(out.end(), closure.begin(), closure.end());
    return true;
  }

 private:
  absl::StatusOr<bool> AddManifest(const Descriptor& manifest, const std::string& json,
                                   bool required, std::vector<Descriptor>& out) {
    auto blobs = ManifestBlobs(json);
    if (!blobs.ok()) return absl::FailedPreconditionError(absl::StrCat("image ", image_, ": ", blobs.status().message()));
    for (const Descriptor& blob : *blobs) {
      auto exists = ContentExists(connection_, blob.digest);
      if (!exists.ok()) return exists.status();
      if (*exists) continue;
      if (!required) return false;
      return Missing(blob, absl::NotFoundError("not in the content store"));
    }
    out.push_back(manifest);
    out.insert(out.end(), blobs->begin(), blobs->end());
    return true;
  }

  absl::Status Missing(const Descriptor& blob, const absl::Status& why) const {
    if (!absl::IsNotFound(why)) return why;
    return absl::FailedPreconditionError(absl::StrCat(
        "image ", image_, ": blob ", blob.digest, " (", blob.media_type,
        ") is not on this node, so it cannot be sent (pull the image again)"));
  }

  const ContainerdConnection& connection_;
  BlobSource& blobs_;
  std::string image_;
};

// The names an argument sends, as `kim save` keeps them: given by tag, that tag, the same
// repository's digest names and the ID record; given by ID or digest, every name of the image.
std::vector<std::string> NamesToSend(const Image& image, const std::string& argument) {
  std::vector<std::string> names;
  auto reference = ImageReference::ParseNormalized(argument);
  const std::string tag = reference.ok() && !reference->HasDigest()
                              ? reference->WithDefaultTag().String()
                              : std::string();
  if (!tag.empty() &&
      std::find(image.repo_tags.begin(), image.repo_tags.end(), tag) != image.repo_tags.end()) {
    names.push_back(tag);
    for (const std::string& digest_name : image.repo_digests) {
      auto digest_ref = ImageReference::Parse(digest_name);
      if (digest_ref.ok() && digest_ref->Name() == reference->Name()) names.push_back(digest_name);
    }
  } else {
    names = image.repo_tags;
    names.insert(names.end(), image.repo_digests.begin(), image.repo_digests.end());
  }
  names.push_back(IdRecordName(image.id));
  return names;
}

// The records `argument` sends of `image`, grouped by the target they point at, into `offer`.
absl::Status AddImage(const Image& image, const std::string& argument,
                      const ContainerdConnection& connection, TransferOffer& offer) {
  const std::vector<std::string> names = NamesToSend(image, argument);
  bool found = false;
  for (const std::string& name : names) {
    auto record = GetImageRecord(connection, name);
    if (absl::IsNotFound(record.status())) continue;
    if (!record.ok()) return record.status();
    found = true;
    const Descriptor target = RecordTarget(*record);
    auto same = std::find_if(offer.images.begin(), offer.images.end(), [&](const OfferedImage& o) {
      return o.target.digest == target.digest;
    });
    if (same == offer.images.end()) {
      offer.images.push_back({.target = target});
      same = offer.images.end() - 1;
    }
    if (std::find(same->names.begin(), same->names.end(), name) == same->names.end()) {
      same->names.push_back(name);
    }
  }
  if (!found) {
    return absl::NotFoundError(absl::StrCat("image \"", argument, "\": no containerd record names it"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TransferOffer> PlanDistribution(ImageService& service,
                                               const ContainerdConnection& connection,
                                               BlobSource& blobs,
                                               const std::vector<std::string>& images) {
  if (images.empty()) return absl::InvalidArgumentError("no image to distribute");
  TransferOffer offer;
  for (const std::string& argument : images) {
    auto image = service.Status(argument);
    if (!image.ok()) return image.status();
    if (absl::Status status = AddImage(*image, argument, connection, offer); !status.ok()) {
      return status;
    }
  }
  std::set<std::string> seen;
  for (const OfferedImage& image : offer.images) {
    std::vector<Descriptor> closure;
    ClosureWalk walk(connection, blobs, image.names.front());
    if (auto complete = walk.Add(image.target, true, closure); !complete.ok()) {
      return complete.status();
    }
    for (Descriptor& blob : closure) {
      blob.platform.reset();
      blob.annotations.clear();
      if (seen.insert(blob.digest).second) offer.blobs.push_back(std::move(blob));
    }
  }
  return offer;
}

}  // namespace kim
