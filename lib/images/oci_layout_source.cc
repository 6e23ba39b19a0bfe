// Blobs and tags of an OCI image layout on disk.
#include "lib/images/oci_layout_source.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kim/digest.h"
#include "lib/images/registry_manifest.h"

namespace kim {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

absl::StatusOr<File> Open(const std::string& path, std::string_view what) {
  File file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) {
    const int error = errno;
    std::string message = absl::StrCat(std::string(what), " ", path, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    return absl::UnavailableError(message);
  }
  return file;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  auto file = Open(path, what);
  if (!file.ok()) return file.status();
  std::string content;
  char buffer[64 * 1024];
  while (true) {
    const size_t n = std::fread(buffer, 1, sizeof buffer, file->get());
    content.append(buffer, n);
    if (n < sizeof buffer) break;
  }
  if (std::ferror(file->get())) {
    return absl::DataLossError(absl::StrCat("cannot read ", path));
  }
  return content;
}

}  // namespace

absl::StatusOr<std::string> OciLayoutSource::BlobPath(std::string_view digest) const {
  auto parsed = Digest::Parse(digest);
  if (!parsed.ok()) return parsed.status();
  return absl::StrCat(directory_, "/blobs/", parsed->Algorithm(), "/", parsed->Hex());
}

absl::StatusOr<std::string> OciLayoutSource::ReadAll(const Descriptor& blob) {
  auto path = BlobPath(blob.digest);
  if (!path.ok()) return path.status();
  auto content = ReadFile(*path, "blob");
  if (!content.ok()) return content.status();
  if (static_cast<int64_t>(content->size()) != blob.size) {
    return absl::DataLossError(absl::StrCat("blob ", *path, " has ", content->size(),
                                            " bytes, its descriptor says ", blob.size));
  }
  if (blob.digest.starts_with("sha256:") && DigestOf(*content).String() != blob.digest) {
    return absl::DataLossError(absl::StrCat("blob ", *path, " does not match its digest"));
  }
  return content;
}

absl::Status OciLayoutSource::ReadChunks(
    const Descriptor& blob, size_t chunk_size,
    const std::function<absl::Status(std::string_view)>& sink) {
  if (chunk_size == 0) return absl::InvalidArgumentError("chunk size 0");
  auto path = BlobPath(blob.digest);
  if (!path.ok()) return path.status();
  auto file = Open(*path, "blob");
  if (!file.ok()) return file.status();
  std::string buffer(chunk_size, '\0');
  int64_t total = 0;
  while (true) {
    const size_t n = std::fread(buffer.data(), 1, chunk_size, file->get());
    if (n > 0) {
      total += static_cast<int64_t>(n);
      if (total > blob.size) break;
      if (auto status = sink(std::string_view(buffer.data(), n)); !status.ok()) return status;
    }
    if (n < chunk_size) break;
  }
  if (std::ferror(file->get())) return absl::DataLossError(absl::StrCat("cannot read ", *path));
  if (total != blob.size) {
    return absl::DataLossError(absl::StrCat("blob ", *path, " is not ", blob.size,
                                            " bytes long as its descriptor says"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Descriptor>> ReadOciLayoutIndex(const std::string& directory) {
  const std::string path = directory + "/index.json";
  auto content = ReadFile(path, "OCI layout index");
  if (!content.ok()) return content.status();
  auto descriptors = ParseIndexDescriptors(*content);
  if (!descriptors.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", descriptors.status().message()));
  }
  return descriptors;
}

absl::StatusOr<Descriptor> FindOciLayoutTag(const std::string& directory, std::string_view tag) {
  auto descriptors = ReadOciLayoutIndex(directory);
  if (!descriptors.ok()) return descriptors.status();
  std::vector<std::string> tags;
  for (const auto& descriptor : *descriptors) {
    auto it = descriptor.annotations.find(kRefNameAnnotation);
    if (it == descriptor.annotations.end()) continue;
    const std::string& name = it->second;
    if (name == tag || (name.size() > tag.size() && name.ends_with(tag) &&
                        name[name.size() - tag.size() - 1] == ':')) {
      return descriptor;
    }
    tags.push_back(name);
  }
  return absl::NotFoundError(absl::StrCat("tag \"", std::string(tag), "\" not found in ",
                                          directory, "/index.json (tags: ",
                                          tags.empty() ? "none" : absl::StrJoin(tags, ", "), ")"));
}

}  // namespace kim
