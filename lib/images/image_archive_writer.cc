// WriteImageArchive: the archive's metadata built from the manifests, then the blobs streamed.
#include "lib/images/image_archive_writer.h"

#include <cpprest/json.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "kim/reference.h"
#include "lib/images/containerd_image_json.h"
#include "lib/images/tar_stream.h"

namespace kim {
namespace {

using web::json::value;

constexpr size_t kChunkSize = 1 << 20;
constexpr char kNameAnnotation[] = "io.containerd.image.name";
constexpr char kRefNameAnnotation[] = "org.opencontainers.image.ref.name";

// An image with its manifest read: the blobs it needs, config first.
struct ResolvedImage {
  const ArchiveImage* image;
  std::string manifest_json;
  std::vector<Descriptor> blobs;  // config, then layers
};

std::string BlobPath(const std::string& digest) {
  const size_t colon = digest.find(':');
  return absl::StrCat("blobs/", digest.substr(0, colon), "/", digest.substr(colon + 1));
}

value DescriptorJson(const Descriptor& descriptor) {
  value entry = value::object();
  entry["mediaType"] = value::string(descriptor.media_type);
  entry["digest"] = value::string(descriptor.digest);
  entry["size"] = value::number(descriptor.size);
  return entry;
}

std::string IndexJson(const std::vector<ResolvedImage>& images) {
  std::vector<value> entries;
  for (const ResolvedImage& resolved : images) {
    if (resolved.image->names.empty()) entries.push_back(DescriptorJson(resolved.image->manifest));
    for (const std::string& name : resolved.image->names) {
      value entry = DescriptorJson(resolved.image->manifest);
      entry["annotations"][kNameAnnotation] = value::string(name);
      if (auto reference = ImageReference::Parse(name); reference.ok() && reference->HasTag()) {
        entry["annotations"][kRefNameAnnotation] = value::string(reference->Tag());
      }
      entries.push_back(std::move(entry));
    }
  }
  value index = value::object();
  index["schemaVersion"] = value::number(2);
  index["mediaType"] = value::string(kOciIndex);
  index["manifests"] = value::array(entries);
  return index.serialize();
}

// docker-archive's manifest.json: config, familiar tags and layers of each image.
std::string DockerManifestJson(const std::vector<ResolvedImage>& images) {
  std::vector<value> entries;
  for (const ResolvedImage& resolved : images) {
    value entry = value::object();
    entry["Config"] = value::string(BlobPath(resolved.blobs.front().digest));
    std::vector<value> tags, layers;
    for (const std::string& name : resolved.image->names) {
      auto reference = ImageReference::Parse(name);
      tags.push_back(value::string(reference.ok() ? reference->FamiliarString() : name));
    }
    for (size_t i = 1; i < resolved.blobs.size(); ++i) {
      layers.push_back(value::string(BlobPath(resolved.blobs[i].digest)));
    }
    entry["RepoTags"] = tags.empty() ? value::null() : value::array(tags);
    entry["Layers"] = value::array(layers);
    entries.push_back(std::move(entry));
  }
  return value::array(entries).serialize();
}

// docker-archive's legacy `repositories`: repository -> tag -> top layer.
std::string RepositoriesJson(const std::vector<ResolvedImage>& images) {
  value repositories = value::object();
  for (const ResolvedImage& resolved : images) {
    if (resolved.blobs.size() < 2) continue;
    const std::string& top = resolved.blobs.back().digest;
    for (const std::string& name : resolved.image->names) {
      auto reference = ImageReference::Parse(name);
      if (!reference.ok() || !reference->HasTag()) continue;
      const std::string repository = reference->FamiliarName();
      repositories[repository][reference->Tag()] = value::string(top.substr(top.find(':') + 1));
    }
  }
  return repositories.serialize();
}

absl::Status WriteFile(const ByteSink& sink, const std::string& name, const std::string& data) {
  if (absl::Status status = sink(TarFileHeader(name, data.size())); !status.ok()) return status;
  if (absl::Status status = sink(data); !status.ok()) return status;
  return sink(TarPadding(data.size()));
}

// Streams one blob from `blobs`, checking that it has the size its descriptor says.
absl::Status WriteBlob(const ByteSink& sink, BlobSource& blobs, const Descriptor& blob) {
  if (absl::Status status = sink(TarFileHeader(BlobPath(blob.digest), blob.size)); !status.ok()) {
    return status;
  }
  int64_t written = 0;
  absl::Status read = blobs.ReadChunks(blob, kChunkSize, [&](std::string_view chunk) {
    written += static_cast<int64_t>(chunk.size());
    if (written > blob.size) {
      return absl::DataLossError(absl::StrCat("blob ", blob.digest, " is longer than ", blob.size,
                                              " bytes"));
    }
    return sink(chunk);
  });
  if (!read.ok()) return read;
  if (written != blob.size) {
    return absl::DataLossError(absl::StrCat("blob ", blob.digest, " has ", written,
                                            " bytes, not ", blob.size));
  }
  return sink(TarPadding(blob.size));
}

}  // namespace

absl::Status WriteImageArchive(const std::vector<ArchiveImage>& images, ArchiveFormat format,
                               BlobSource& blobs, const ByteSink& sink) {
  std::vector<ResolvedImage> resolved;
  for (const ArchiveImage& image : images) {
    auto manifest = blobs.ReadAll(image.manifest);
    if (!manifest.ok()) return manifest.status();
    auto parts = ManifestBlobs(*manifest);
    if (!parts.ok()) return parts.status();
    resolved.push_back({&image, *std::move(manifest), *std::move(parts)});
  }

  absl::Status status = WriteFile(sink, "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  if (status.ok()) status = WriteFile(sink, "index.json", IndexJson(resolved));
  if (status.ok() && format == ArchiveFormat::kDocker) {
    status = WriteFile(sink, "manifest.json", DockerManifestJson(resolved));
    if (status.ok()) status = WriteFile(sink, "repositories", RepositoriesJson(resolved));
  }
  if (status.ok()) status = sink(TarDirectoryHeader("blobs/"));
  if (status.ok()) status = sink(TarDirectoryHeader("blobs/sha256/"));
  if (!status.ok()) return status;

  // Small documents first (a reader learns every image before the layers arrive), then layers.
  std::set<std::string> written;
  for (const ResolvedImage& image : resolved) {
    if (!written.insert(image.image->manifest.digest).second) continue;
    status = WriteFile(sink, BlobPath(image.image->manifest.digest), image.manifest_json);
    if (!status.ok()) return status;
  }
  for (const ResolvedImage& image : resolved) {
    const Descriptor& config = image.blobs.front();
    if (!written.insert(config.digest).second) continue;
    if (status = WriteBlob(sink, blobs, config); !status.ok()) return status;
  }
  for (const ResolvedImage& image : resolved) {
    for (size_t i = 1; i < image.blobs.size(); ++i) {
      if (!written.insert(image.blobs[i].digest).second) continue;
      if (status = WriteBlob(sink, blobs, image.blobs[i]); !status.ok()) return status;
    }
  }
  return sink(TarTrailer());
}

}  // namespace kim
