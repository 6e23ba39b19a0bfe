// ArchiveImporter: an OCI index.json (with Docker's manifest.json for names) or a classic
// manifest.json turned into images, each checked against the blobs the archive brought.
#include "lib/images/image_archive_reader.h"

#include <cpprest/json.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kim/platform.h"
#include "kim/reference.h"
#include "lib/images/containerd_blob_source.h"
#include "lib/images/containerd_content_info.h"
#include "lib/images/containerd_image_json.h"
#include "lib/images/containerd_inspect.h"
#include "lib/images/docker_archive_manifest.h"
#include "lib/images/image_archive_entries.h"

namespace kim {
namespace {

using web::json::value;

constexpr char kNameAnnotation[] = "io.containerd.image.name";
constexpr char kRefNameAnnotation[] = "org.opencontainers.image.ref.name";
constexpr char kDockerLayer[] = "application/vnd.docker.image.rootfs.diff.tar";
constexpr char kDockerGzipLayer[] = "application/vnd.docker.image.rootfs.diff.tar.gzip";

// A name as a docker-archive or an annotation gives it, fully qualified with a default tag.
std::optional<std::string> NormalizeName(const std::string& name) {
  auto reference = ImageReference::ParseNormalized(name);
  if (!reference.ok()) return std::nullopt;
  return reference->WithDefaultTag().String();
}

}  // namespace

std::string DockerManifestFor(const Descriptor& config, const std::vector<Descriptor>& layers) {
  auto descriptor = [](const Descriptor& blob) {
    value entry = value::object();
    entry["mediaType"] = value::string(blob.media_type);
    entry["size"] = value::number(blob.size);
    entry["digest"] = value::string(blob.digest);
    return entry;
  };
  std::vector<value> layer_entries;
  for (const Descriptor& layer : layers) layer_entries.push_back(descriptor(layer));
  value manifest = value::object();
  manifest["schemaVersion"] = value::number(2);
  manifest["mediaType"] = value::string(kDockerManifest);
  manifest["config"] = descriptor(config);
  manifest["layers"] = value::array(layer_entries);
  return manifest.serialize();
}

// The importer's state: the archive's files, then what they say.
class ArchiveImporter::Entries {
 public:
  Entries(std::shared_ptr<const ContainerdConnection> connection, std::string lease)
      : connection_(connection), lease_(lease), files_(connection, lease),
        blobs_(connection) {}

  absl::Status Feed(std::string_view bytes) { return files_.Feed(bytes); }

  absl::StatusOr<std::vector<ImportedImage>> Finish() {
    if (absl::Status status = files_.Finish(); !status.ok()) return status;
    std::vector<ImportedImage> images;
    absl::Status status;
    if (files_.File("index.json") != nullptr) {
      status = ReadOciIndex(images);
    } else if (files_.File("manifest.json") != nullptr) {
      status = ReadDockerManifest(images);
    } else {
      status = absl::InvalidArgumentError(
          "the archive is not an image archive: it has neither index.json nor manifest.json");
    }
    if (!status.ok()) return status;
    if (images.empty()) return absl::InvalidArgumentError("the archive holds no image");
    return images;
  }

 private:
  // A small document of the archive by path.
  absl::StatusOr<std::string> Document(const std::string& path) {
    const ArchiveFile* file = files_.File(path);
    if (file == nullptr) return absl::InvalidArgumentError(absl::StrCat("the archive has no ", path));
    if (!file->kept) return absl::InvalidArgumentError(absl::StrCat("the archive's ", path, " is too big"));
    return file->content;
  }

  // A blob's content: from the archive, else from the content store (an index's child the node
  // had already).
  absl::StatusOr<std::string> BlobContent(const Descriptor& blob) {
    if (const ArchiveFile* file = files_.Blob(blob.digest); file != nullptr && file->kept) {
      return file->content;
    }
    auto stored = blobs_.ReadAll(blob);
    if (absl::IsNotFound(stored.status())) {
      return absl::DataLossError(absl::StrCat("the archive is missing blob ", blob.digest));
    }
    return stored;
  }

  bool Present(const std::string& digest) {
    if (files_.Stored(digest)) return true;
    auto exists = ContentExists(*connection_, digest);
    return exists.ok() && *exists;
  }

  // Labels `digest` so containerd's collector keeps what it refers to once the lease ends.
  absl::Status Label(const std::string& digest, const std::map<std::string, std::string>& labels) {
    return LabelContent(*connection_, lease_, digest, labels);
  }

  // Checks one single-platform manifest: config and layers present, layers matching the
  // config's diff IDs where known; labels it. Returns the config digest.
  absl::StatusOr<std::string> CheckManifest(const Descriptor& manifest, const std::string& what) {
    auto json = BlobContent(manifest);
    if (!json.ok()) return json.status();
    auto blobs = ManifestBlobs(*json);
    if (!blobs.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", blobs.status().message()));
    auto config = BlobContent(blobs->front());
    if (!config.ok()) return config.status();
    const std::vector<std::string> diff_ids = ConfigDiffIds(*config);
    if (diff_ids.size() != blobs->size() - 1) {
      return absl::DataLossError(absl::StrCat(what, ": its config lists ", diff_ids.size(),
                                              " layers, its manifest ", blobs->size() - 1));
    }
    for (size_t i = 1; i < blobs->size(); ++i) {
      const Descriptor& layer = (*blobs)[i];
      if (!Present(layer.digest)) {
        return absl::DataLossError(absl::StrCat("the archive is missing layer ", layer.digest,
                                                " of ", what));
      }
      const ArchiveFile* file = files_.Blob(layer.digest);
      if (file != nullptr && !file->diff_id.empty() && file->diff_id != diff_ids[i - 1]) {
        return absl::DataLossError(absl::StrCat(
            what, ": layer ", layer.digest, " unpacks to ", file->diff_id, ", not to ",
            diff_ids[i - 1], " as its config says (tampered or corrupt archive)"));
      }
      // What containerd's unpacker and CRI's pulls record too: it spares a second decompression.
      if (absl::Status status = Label(layer.digest, {{kUncompressedLabel, diff_ids[i - 1]}});
          !status.ok()) {
        return status;
      }
    }
    if (absl::Status status = Label(manifest.digest, ManifestGcLabels(*blobs)); !status.ok()) {
      return status;
    }
    return blobs->front().digest;
  }

  // An index entry: a manifest, or an index of which the node's platform is checked.
  absl::StatusOr<std::string> CheckTarget(const Descriptor& target, const std::string& what) {
    if (!IsIndex(target.media_type)) return CheckManifest(target, what);
    auto json = BlobContent(target);
    if (!json.ok()) return json.status();
    auto children = IndexManifests(*json);
    if (!children.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", children.status().message()));
    if (absl::Status status = Label(target.digest, IndexGcLabels(*children)); !status.ok()) {
      return status;
    }
    const Platform host = HostPlatform();
    for (const Descriptor& child : *children) {
      if (child.platform && child.platform->Matches(host)) return CheckTarget(child, what);
    }
    return absl::InvalidArgumentError(absl::StrCat(what, " has no manifest for the node's platform ",
                                                   host.String()));
  }

  // Docker's manifest.json names by config digest, for OCI entries without a name.
  std::map<std::string, std::vector<std::string>> DockerNames() {
    std::map<std::string, std::vector<std::string>> names;
    auto text = Document("manifest.json");
    if (!text.ok()) return names;
    auto entries = ParseDockerArchiveManifest(*text);
    if (!entries.ok()) return names;
    for (const DockerArchiveEntry& entry : *entries) {
      if (!entry.config) continue;
      const ArchiveFile* config = files_.File(*entry.config);
      if (config == nullptr) continue;
      for (const std::string& tag : entry.repo_tags) {
        if (auto name = NormalizeName(tag)) names[config->digest].push_back(*name);
      }
    }
    return names;
  }

  absl::Status ReadOciIndex(std::vector<ImportedImage>& images) {
    auto text = Document("index.json");
    if (!text.ok()) return text.status();
    auto entries = IndexManifests(*text);
    if (!entries.ok()) return absl::InvalidArgumentError(absl::StrCat("the archive's index.json: ", entries.status().message()));
    const auto docker_names = DockerNames();
    for (const Descriptor& entry : *entries) {
      std::optional<std::string> name;
      if (auto it = entry.annotations.find(kNameAnnotation); it != entry.annotations.end()) {
        name = NormalizeName(it->second);
      } else if (auto ref = entry.annotations.find(kRefNameAnnotation);
                 ref != entry.annotations.end() &&
                 ref->second.find_first_of("/:") != std::string::npos) {
        name = NormalizeName(ref->second);  // a full name; a bare tag names no repository
      }
      auto config = CheckTarget(entry, name ? *name : entry.digest);
      if (!config.ok()) return config.status();
      auto same = std::find_if(images.begin(), images.end(), [&](const ImportedImage& image) {
        return image.target.digest == entry.digest;
      });
      if (same == images.end()) {
        images.push_back({.target = entry, .config_digest = *config});
        same = images.end() - 1;
      }
      if (name) same->names.push_back(*name);
      if (!name && same->names.empty()) {
        if (auto it = docker_names.find(*config); it != docker_names.end()) same->names = it->second;
      }
    }
    return absl::OkStatus();
  }

  // One classic docker-archive entry: config and layer files made into a Docker manifest.
  absl::StatusOr<ImportedImage> ReadDockerEntry(const DockerArchiveEntry& entry) {
    if (!entry.config || !entry.layers) {
      return absl::InvalidArgumentError("the archive's manifest.json has an entry without Config and Layers");
    }
    const std::string& config_path = *entry.config;
    const ArchiveFile* config = files_.File(config_path);
    if (config == nullptr || !config->kept) {
      return absl::DataLossError(absl::StrCat("the archive is missing the config ", config_path));
    }
    std::vector<Descriptor> layers;
    for (const std::string& path : *entry.layers) {
      const ArchiveFile* layer = files_.File(path);
      if (layer == nullptr || !layer->stored) {
        return absl::DataLossError(absl::StrCat("the archive is missing the layer ", path));
      }
      const bool gzip = layer->diff_id != layer->digest;
      layers.push_back({.media_type = gzip ? kDockerGzipLayer : kDockerLayer,
                        .digest = layer->digest, .size = layer->size});
    }
    const Descriptor config_blob{.media_type = kDockerConfig, .digest = config->digest,
                                 .size = config->size};
    if (absl::Status status = Store(config_blob, config->content); !status.ok()) return status;
    const std::string manifest_json = DockerManifestFor(config_blob, layers);
    const Descriptor manifest{.media_type = kDockerManifest,
                              .digest = DigestOf(manifest_json).String(),
                              .size = static_cast<int64_t>(manifest_json.size())};
    if (absl::Status status = Store(manifest, manifest_json); !status.ok()) return status;
    ImportedImage image{.target = manifest, .config_digest = config->digest};
    for (const std::string& tag : entry.repo_tags) {
      auto name = NormalizeName(tag);
      if (!name) return absl::InvalidArgumentError(absl::StrCat("the archive names an image \"", tag, "\": invalid reference format"));
      image.names.push_back(*name);
    }
    auto checked = CheckManifest(manifest, image.names.empty() ? config->digest : image.names.front());
    if (!checked.ok()) return checked.status();
    return image;
  }

  absl::Status ReadDockerManifest(std::vector<ImportedImage>& images) {
    auto text = Document("manifest.json");
    if (!text.ok()) return text.status();
    auto entries = ParseDockerArchiveManifest(*text);
    if (!entries.ok()) return entries.status();
    for (const DockerArchiveEntry& entry : *entries) {
      auto image = ReadDockerEntry(entry);
      if (!image.ok()) return image.status();
      images.push_back(*std::move(image));
    }
    return absl::OkStatus();
  }

  // Writes a small blob the archive implies (a classic archive's config and manifest).
  absl::Status Store(const Descriptor& blob, const std::string& data) {
    auto writer = ContainerdContentWriter::Open(connection_, lease_,
                                                absl::StrCat("kim-load-", lease_, "-", blob.digest),
                                                blob.digest, blob.size);
    if (!writer.ok()) return writer.status();
    if (*writer == nullptr) return absl::OkStatus();
    if (absl::Status status = (*writer)->Write(data); !status.ok()) return status;
    return (*writer)->Commit().status();
  }

  std::shared_ptr<const ContainerdConnection> connection_;
  std::string lease_;
  ArchiveEntries files_;
  ContainerdBlobSource blobs_;
};

ArchiveImporter::ArchiveImporter(std::shared_ptr<const ContainerdConnection> connection,
                                 std::string lease)
    : entries_(std::make_unique<Entries>(std::move(connection), std::move(lease))) {}

ArchiveImporter::~ArchiveImporter() = default;

absl::Status ArchiveImporter::Feed(std::string_view bytes) { return entries_->Feed(bytes); }

absl::StatusOr<std::vector<ImportedImage>> ArchiveImporter::Finish() { return entries_->Finish(); }

}  // namespace kim
