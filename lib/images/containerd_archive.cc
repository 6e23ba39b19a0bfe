// Save and load over containerd: the records and manifests behind image arguments, the import's
// lease, and the records created last.
#include "lib/images/containerd_archive.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kim/platform.h"
#include "kim/reference.h"
#include "lib/images/containerd_blob_source.h"
#include "lib/images/containerd_image_json.h"
#include "lib/images/containerd_lease.h"
#include "lib/images/containerd_records.h"
#include "lib/images/image_archive_reader.h"
#include "lib/images/image_archive_writer.h"

namespace kim {
namespace {

namespace images = ::containerd::services::images::v1;

constexpr absl::Duration kListedTimeout = absl::Seconds(5);

// The tag `argument` names when it is a reference to one of `image`'s tags.
std::optional<std::string> TagNamed(const std::string& argument, const Image& image) {
  auto reference = ImageReference::ParseNormalized(argument);
  if (!reference.ok() || reference->HasDigest()) return std::nullopt;
  const std::string name = reference->WithDefaultTag().String();
  if (std::find(image.repo_tags.begin(), image.repo_tags.end(), name) == image.repo_tags.end()) {
    return std::nullopt;
  }
  return name;
}

// The single-platform manifest under `target`: itself, or the node's entry of an index.
absl::StatusOr<Descriptor> PlatformManifest(BlobSource& blobs, const Descriptor& target,
                                            const std::string& image) {
  if (!IsIndex(target.media_type)) return target;
  auto index = blobs.ReadAll(target);
  if (!index.ok()) return index.status();
  auto entries = IndexManifests(*index);
  if (!entries.ok()) return entries.status();
  const Platform host = HostPlatform();
  for (const Descriptor& entry : *entries) {
    if (entry.platform && entry.platform->Matches(host)) return PlatformManifest(blobs, entry, image);
  }
  return absl::NotFoundError(
      absl::StrCat("image \"", image, "\" has no manifest for the node's platform ", host.String()));
}

// What one save argument puts in the archive.
absl::StatusOr<ArchiveImage> ResolveForSave(ImageService& service, const ContainerdConnection& connection,
                                            BlobSource& blobs, const std::string& argument) {
  auto image = service.Status(argument);
  if (!image.ok()) return image.status();
  ArchiveImage archived;
  std::vector<std::string> candidates;
  if (auto tag = TagNamed(argument, *image)) {
    archived.names = {*tag};
    candidates = {*tag};
  } else {  // by ID (or digest): every tag the image has
    archived.names = image->repo_tags;
    candidates = image->repo_tags;
    candidates.insert(candidates.end(), image->repo_digests.begin(), image->repo_digests.end());
    candidates.push_back(image->id);
  }
  absl::Status last = absl::NotFoundError(absl::StrCat("image \"", argument, "\": not found"));
  for (const std::string& name : candidates) {
    auto record = GetImageRecord(connection, name);
    if (!record.ok()) {
      last = record.status();
      continue;
    }
    auto manifest = PlatformManifest(blobs, RecordTarget(*record), argument);
    if (!manifest.ok()) return manifest.status();
    archived.manifest = *manifest;
    return archived;
  }
  return last;
}

}  // namespace

void WaitUntilListed(ImageService& service, const std::string& name) {
  const absl::Time deadline = absl::Now() + kListedTimeout;
  while (!service.Status(name).ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
}

absl::Status SaveContainerdImages(ImageService& service,
                                  std::shared_ptr<const ContainerdConnection> connection,
                                  const std::vector<std::string>& images,
                                  const SaveOptions& options, const ByteSink& sink) {
  if (images.empty()) return absl::InvalidArgumentError("no image to save");
  ContainerdBlobSource blobs(connection);
  std::vector<ArchiveImage> archived;
  for (const std::string& image : images) {
    auto resolved = ResolveForSave(service, *connection, blobs, image);
    if (!resolved.ok()) return resolved.status();
    archived.push_back(*std::move(resolved));
  }
  // The lease keeps every blob until the archive is written, whatever happens to the images.
  auto lease = ContainerdLease::Create(connection);
  if (!lease.ok()) return lease.status();
  return WriteImageArchive(archived, options.format, blobs, sink);
}

absl::StatusOr<std::vector<LoadedImage>> LoadContainerdImages(
    ImageService& service, std::shared_ptr<const ContainerdConnection> connection,
    const ByteSource& source) {
  auto lease = ContainerdLease::Create(connection);
  if (!lease.ok()) return lease.status();
  // Whatever this import wrote goes with the lease unless an image names it.
  lease->CollectOnRelease();
  ArchiveImporter importer(connection, lease->id());
  while (true) {
    auto piece = source();
    if (!piece.ok()) return piece.status();
    if (piece->empty()) break;
    if (absl::Status status = importer.Feed(*piece); !status.ok()) return status;
  }
  auto imported = importer.Finish();
  if (!imported.ok()) return imported.status();

  std::vector<LoadedImage> loaded;
  for (const ImportedImage& image : *imported) {
    images::Image record;
    record.mutable_target()->set_media_type(image.target.media_type);
    record.mutable_target()->set_digest(image.target.digest);
    record.mutable_target()->set_size(image.target.size);
    (*record.mutable_labels())["io.cri-containerd.image"] = "managed";
    std::vector<std::string> names = image.names;
    if (names.empty()) names.push_back(image.config_digest);  // CRI's own ID record
    for (const std::string& name : names) {
      if (absl::Status status = CreateOrUpdateImageRecord(*connection, name, record, lease->id());
          !status.ok()) {
        return status;
      }
      loaded.push_back({.name = image.names.empty() ? "" : name, .id = image.config_digest});
    }
  }
  for (const LoadedImage& image : loaded) WaitUntilListed(service, image.name.empty() ? image.id : image.name);
  return loaded;
}

}  // namespace kim
