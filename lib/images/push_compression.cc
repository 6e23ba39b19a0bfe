// GzipUncompressedLayers: a walk of the image that compresses its uncompressed layers into
// containerd's content store and rewrites, bottom up, the manifests and indexes above them.
#include "lib/images/push_compression.h"

#include <cpprest/json.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "containerd/services/content/v1/content.grpc.pb.h"
#include "kim/digest.h"
#include "lib/images/containerd_content_info.h"
#include "lib/images/containerd_content_writer.h"
#include "lib/images/gzip_deflater.h"
#include "lib/images/registry_manifest.h"

namespace kim {
namespace {

namespace content = ::containerd::services::content::v1;
using web::json::value;

constexpr char kOciLayer[] = "application/vnd.oci.image.layer.v1.tar";
constexpr char kDockerLayer[] = "application/vnd.docker.image.rootfs.diff.tar";
constexpr char kGzipGcRef[] = "containerd.io/gc.ref.content.kim.gzip";
constexpr size_t kReadChunk = 1 << 20;

// What the content store knows of blob `digest`; NotFound when it does not have it.
absl::StatusOr<content::Info> BlobInfo(const ContainerdConnection& connection,
                                       const std::string& digest) {
  content::InfoRequest request;
  request.set_digest(digest);
  content::InfoResponse response;
  auto stub = content::Content::NewStub(connection.channel());
  const grpc::Status status = stub->Info(connection.NewContext().get(), request, &response);
  if (!status.ok()) return FromGrpc(status, absl::StrCat("blob ", digest));
  return response.info();
}

// One conversion: remembers what it rewrote, so a manifest shared by two indexes is done once.
class Converter {
 public:
  Converter(std::shared_ptr<const ContainerdConnection> connection, BlobSource& blobs,
            const std::string& lease, int level)
      : connection_(std::move(connection)), blobs_(blobs), lease_(lease), level_(level) {}

  absl::StatusOr<Descriptor> Convert(const Descriptor& descriptor) {
    if (auto it = done_.find(descriptor.digest); it != done_.end()) return it->second;
    auto bytes = blobs_.ReadAll(descriptor);
    if (!bytes.ok()) return bytes.status();
    const std::string media_type =
        descriptor.media_type.empty() ? ManifestMediaType(*bytes) : descriptor.media_type;
    auto references = ParseManifestReferences(media_type, *bytes);
    if (!references.ok()) return references.status();
    std::map<std::string, Descriptor> replacements;
    if (IsIndex(media_type)) {
      for (const Descriptor& child : references->manifests) {
        auto converted = Convert(child);
        if (absl::IsNotFound(converted.status())) continue;  // a platform the node lacks
        if (!converted.ok()) return converted.status();
        if (converted->digest != child.digest) replacements[child.digest] = *converted;
      }
    } else {
      for (const Descriptor& layer : references->layers) {
        if (!IsUncompressedLayer(layer.media_type)) continue;
        auto compressed = Compressed(layer);
        if (!compressed.ok()) return compressed.status();
        replacements[layer.digest] = *compressed;
      }
    }
    Descriptor result = descriptor;
    if (!replacements.empty()) {
      auto rewritten = ReplaceDescriptors(media_type, *bytes, replacements);
      if (!rewritten.ok()) return rewritten.status();
      auto stored = Store(media_type, *rewritten);
      if (!stored.ok()) return stored.status();
      result.media_type = media_type;
      result.digest = *stored;
      result.size = static_cast<int64_t>(rewritten->size());
    }
    done_[descriptor.digest] = result;
    return result;
  }

 private:
  // The gzip twin of `layer`: the one made by an earlier push when it is still there, else a
  // new one, remembered on the layer.
  absl::StatusOr<Descriptor> Compressed(const Descriptor& layer) {
    Descriptor twin{.media_type = GzipLayerMediaType(layer.media_type)};
    auto info = BlobInfo(*connection_, layer.digest);
    if (!info.ok()) return info.status();
    if (auto it = info->labels().find(kGzipLabel); it != info->labels().end()) {
      if (auto made = BlobInfo(*connection_, it->second); made.ok()) {
        twin.digest = made->digest();
        twin.size = made->size();
        return twin;
      }
    }
    auto writer = ContainerdContentWriter::Open(connection_, lease_,
                                                absl::StrCat("kim-gzip-", layer.digest), "", -1);
    if (!writer.ok()) return writer.status();
    Sha256Digester digester;
    GzipDeflater deflater(
        [&](std::string_view out) {
          digester.Update(out);
          twin.size += static_cast<int64_t>(out.size());
          return (*writer)->Write(out);
        },
        level_);
    absl::Status status = blobs_.ReadChunks(
        layer, kReadChunk, [&](std::string_view piece) { return deflater.Feed(piece); });
    if (status.ok()) status = deflater.Finish();
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("compressing layer ", layer.digest,
                                                      ": ", status.message()));
    }
    twin.digest = digester.Current().String();
    auto committed = (*writer)->Commit();
    if (!committed.ok()) return committed.status();
    if (absl::Status labelled = LabelContent(*connection_, "", layer.digest,
                                          {{kGzipLabel, twin.digest}, {kGzipGcRef, twin.digest}});
        !labelled.ok()) {
      return labelled;
    }
    return twin;
  }

  // Writes manifest bytes into the store with the gc.ref labels that keep what they refer to.
  absl::StatusOr<std::string> Store(const std::string& media_type, const std::string& bytes) {
    auto references = ParseManifestReferences(media_type, bytes);
    if (!references.ok()) return references.status();
    std::map<std::string, std::string> labels;
    if (references->config) labels["containerd.io/gc.ref.content.config"] = references->config->digest;
    for (size_t i = 0; i < references->layers.size(); ++i) {
      labels[absl::StrCat("containerd.io/gc.ref.content.l.", i)] = references->layers[i].digest;
    }
    for (size_t i = 0; i < references->manifests.size(); ++i) {
      labels[absl::StrCat("containerd.io/gc.ref.content.m.", i)] = references->manifests[i].digest;
    }
    const std::string digest = DigestOf(bytes).String();
    auto writer = ContainerdContentWriter::Open(connection_, lease_, absl::StrCat("kim-", digest),
                                                digest, static_cast<int64_t>(bytes.size()));
    if (!writer.ok()) return writer.status();
    if (*writer == nullptr) return digest;  // stored by an earlier push
    if (absl::Status status = (*writer)->Write(bytes); !status.ok()) return status;
    auto committed = (*writer)->Commit(labels);
    if (!committed.ok()) return committed.status();
    return digest;
  }

  std::shared_ptr<const ContainerdConnection> connection_;
  BlobSource& blobs_;
  const std::string& lease_;
  const int level_;
  std::map<std::string, Descriptor> done_;
};

}  // namespace

bool IsUncompressedLayer(std::string_view media_type) {
  return media_type == kOciLayer || media_type == kDockerLayer;
}

std::string GzipLayerMediaType(std::string_view media_type) {
  return media_type == kDockerLayer ? absl::StrCat(kDockerLayer, ".gzip")
                                    : absl::StrCat(kOciLayer, "+gzip");
}

absl::StatusOr<std::string> ReplaceDescriptors(std::string_view media_type,
                                               std::string_view manifest,
                                               const std::map<std::string, Descriptor>& replacements) {
  try {
    value json = value::parse(std::string(manifest));
    const char* field = IsIndex(media_type) ? "manifests" : "layers";
    if (!json.has_array_field(field)) {
      return absl::InvalidArgumentError(absl::StrCat("the manifest has no \"", field, "\""));
    }
    bool changed = false;
    for (value& entry : json.at(field).as_array()) {
      if (!entry.has_string_field("digest")) continue;
      auto it = replacements.find(entry.at("digest").as_string());
      if (it == replacements.end()) continue;
      entry["mediaType"] = value::string(it->second.media_type);
      entry["digest"] = value::string(it->second.digest);
      entry["size"] = value::number(it->second.size);
      changed = true;
    }
    if (!changed) return std::string(manifest);
    return json.serialize();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot rewrite the manifest: ", e.what()));
  }
}

absl::StatusOr<Descriptor> GzipUncompressedLayers(
    std::shared_ptr<const ContainerdConnection> connection, BlobSource& blobs,
    const Descriptor& root, const std::string& lease, int level) {
  Converter converter(std::move(connection), blobs, lease, level);
  return converter.Convert(root);
}

}  // namespace kim
