// The OCI layout output: see oci_layout.h.
#include "lib/build/oci_layout.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <cpprest/json.h>

#include "absl/strings/str_cat.h"
#include "containerd/services/content/v1/content.pb.h"
#include "kim/digest.h"
#include "kim/reference.h"
#include "lib/build/buildkit_client.h"
#include "lib/core/atomic_file.h"

namespace kim::build {
namespace {

namespace fs = std::filesystem;
using containerd::services::content::v1::WriteAction;
using containerd::services::content::v1::WriteContentRequest;
using containerd::services::content::v1::WriteContentResponse;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// One blob being written: a temporary file next to the blobs, hashed as it grows, renamed into
// place by Commit and removed otherwise.
class Ingest {
 public:
  Ingest() = default;
  ~Ingest() {
    if (fd_ >= 0) close(fd_);
    if (!temp_.empty()) unlink(temp_.c_str());
  }

  absl::Status Open(const std::string& directory) {
    const std::string blobs = directory + "/blobs/sha256";
    std::error_code error;
    fs::create_directories(blobs, error);
    if (error) return absl::InternalError(absl::StrCat("mkdir ", blobs, ": ", error.message()));
    temp_ = absl::StrCat(directory, "/blobs/.ingest-", NewIdentifier());
    fd_ = open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      absl::Status status = Errno("create", temp_);
      temp_.clear();
      return status;
    }
    return absl::OkStatus();
  }

  absl::Status Append(const std::string& data) {
    for (size_t done = 0; done < data.size();) {
      const ssize_t n = write(fd_, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("write", temp_);
      done += static_cast<size_t>(n);
    }
    digest_.Update(data);
    size_ += static_cast<int64_t>(data.size());
    return absl::OkStatus();
  }

  int64_t size() const { return size_; }

  // The digest of everything appended so far.
  std::string CurrentDigest() const { return digest_.Current().String(); }

  // Makes the blob visible as `path`.
  absl::Status Commit(const std::string& path) {
    if (close(fd_) != 0) {
      fd_ = -1;
      return Errno("close", temp_);
    }
    fd_ = -1;
    if (rename(temp_.c_str(), path.c_str()) != 0) return Errno("rename", path);
    temp_.clear();
    return absl::OkStatus();
  }

 private:
  Sha256Digester digest_;
  std::string temp_;
  int fd_ = -1;
  int64_t size_ = 0;
};

// The path of blob `digest` in the layout; InvalidArgument for a digest kim cannot store.
absl::StatusOr<std::string> BlobPath(const std::string& directory, const std::string& digest) {
  auto parsed = Digest::Parse(digest);
  if (!parsed.ok()) return parsed.status();
  if (parsed->Algorithm() != Digest::kSha256) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported digest algorithm in ", digest));
  }
  return absl::StrCat(directory, "/blobs/sha256/", parsed->Hex());
}

// Content.Write: STAT, WRITE... then COMMIT, each answered.
absl::Status WriteBlob(SessionCall& call, const std::string& directory) {
  WriteContentRequest request;
  WriteContentResponse response;
  Ingest ingest;
  bool opened = false;
  int64_t total = 0;
  std::string expected;
  while (call.Read(&request)) {
    if (request.total() > 0) total = request.total();
    if (!request.expected().empty()) expected = request.expected();
    if (!opened) {
      if (!expected.empty()) {
        auto path = BlobPath(directory, expected);
        if (!path.ok()) return path.status();
        if (fs::exists(*path)) return absl::AlreadyExistsError(absl::StrCat("content ", expected, ": already exists"));
      }
      if (absl::Status status = ingest.Open(directory); !status.ok()) return status;
      opened = true;
    }
    if (request.action() != WriteAction::STAT && !request.data().empty()) {
      if (request.offset() != ingest.size()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "write at offset ", request.offset(), " of ", request.ref(), ": ", ingest.size(), " bytes written"));
      }
      if (absl::Status status = ingest.Append(request.data()); !status.ok()) return status;
    }
    response.Clear();
    response.set_action(request.action());
    response.set_offset(ingest.size());
    response.set_total(total);
    if (request.action() != WriteAction::COMMIT) {
      if (!call.Write(response)) return absl::CancelledError("write cancelled");
      continue;
    }
    const std::string digest = ingest.CurrentDigest();
    if (total > 0 && ingest.size() != total) {
      return absl::FailedPreconditionError(absl::StrCat(
          "unexpected commit size ", ingest.size(), ", expected ", total, " for ", request.ref()));
    }
    if (!expected.empty() && digest != expected) {
      return absl::FailedPreconditionError(absl::StrCat(
          "unexpected commit digest ", digest, ", expected ", expected, " for ", request.ref()));
    }
    auto path = BlobPath(directory, digest);
    if (!path.ok()) return path.status();
    if (absl::Status status = ingest.Commit(*path); !status.ok()) return status;
    response.set_digest(digest);
    if (!call.Write(response)) return absl::CancelledError("write cancelled");
    return absl::OkStatus();
  }
  return absl::OkStatus();  // the writer went away: the ingest is dropped
}

std::string ReadText(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// The tag of a full reference ("latest" when it has only a digest), for ref.name.
std::string TagOf(const std::string& name) {
  auto reference = ImageReference::ParseNormalized(name);
  if (reference.ok() && !reference->Tag().empty()) return std::string(reference->Tag());
  return "latest";
}

// `json` with every duplicated key kept once, holding the value cpprestsdk's at() reads for it
// (what a reader of the existing index saw). Written back with duplicates, a re-read could
// pick another of them (the parser sorts keys unstably): fuzz finding, seed 2632738955.
web::json::value AsRead(const web::json::value& json) {
  if (json.is_array()) {
    web::json::value out = web::json::value::array(json.size());
    for (size_t i = 0; i < json.size(); ++i) out[i] = AsRead(json.at(i));
    return out;
  }
  if (!json.is_object()) return json;
  web::json::value out = web::json::value::object();
  for (const auto& member : json.as_object()) out[member.first] = AsRead(json.at(member.first));
  return out;
}

}  // namespace

std::vector<SessionMethod> ContentStoreMethods(std::string store_id, std::string directory) {
  return {{"/containerd.services.content.v1.Content/Write",
           [store_id = std::move(store_id), directory = std::move(directory)](SessionCall& call) {
             const std::vector<std::string> ids = call.Metadata("buildkit-attachable-store-id");
             if (ids.empty() || ids.front() != store_id) {
               return absl::NotFoundError(absl::StrCat(
                   "content store \"", ids.empty() ? "" : ids.front(), "\" not found"));
             }
             return WriteBlob(call, directory);
           }}};
}

absl::StatusOr<std::string> MergeOciIndex(std::string_view existing,
                                          const std::string& descriptor_json,
                                          const std::vector<std::string>& names) {
  using web::json::value;
  std::error_code error;
  const value descriptor = value::parse(descriptor_json, error);
  if (error || !descriptor.has_string_field("digest") || !descriptor.has_string_field("mediaType")) {
    return absl::InvalidArgumentError("the exporter's image descriptor has no digest or media type");
  }
  value index = value::object();
  if (!existing.empty()) {
    index = value::parse(std::string(existing), error);
    if (error || !index.is_object()) return absl::InvalidArgumentError("it is not a JSON object");
    index = AsRead(index);
  }
  index["schemaVersion"] = value::number(2);
  index["mediaType"] = value::string("application/vnd.oci.image.index.v1+json");
  std::vector<value> manifests;
  if (index.has_array_field("manifests")) {
    for (const value& entry : index.at("manifests").as_array()) {
      bool replaced = false;
      if (entry.has_object_field("annotations") &&
          entry.at("annotations").has_string_field("io.containerd.image.name")) {
        const std::string name = entry.at("annotations").at("io.containerd.image.name").as_string();
        for (const std::string& mine : names) replaced = replaced || mine == name;
      }
      if (!replaced) manifests.push_back(entry);
    }
  }
  std::vector<std::string> entry_names = names;
  if (entry_names.empty()) entry_names.push_back("");  // one unnamed entry
  for (const std::string& name : entry_names) {
    value entry = value::object();
    entry["mediaType"] = descriptor.at("mediaType");
    entry["digest"] = descriptor.at("digest");
    entry["size"] = descriptor.has_field("size") ? descriptor.at("size") : value::number(0);
    if (!name.empty()) {
      value annotations = value::object();
      annotations["io.containerd.image.name"] = value::string(name);
      annotations["org.opencontainers.image.ref.name"] = value::string(TagOf(name));
      entry["annotations"] = annotations;
    }
    manifests.push_back(entry);
  }
  index["manifests"] = value::array(manifests);
  return index.serialize();
}

absl::Status AddToOciIndex(const std::string& directory, const std::string& descriptor_json,
                           const std::vector<std::string>& names) {
  const std::string index_path = directory + "/index.json";
  const std::string existing = fs::exists(index_path) ? ReadText(index_path) : "";
  auto merged = MergeOciIndex(existing, descriptor_json, names);
  if (!merged.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot update ", index_path, ": ", merged.status().message()));
  }
  // Both files are replaced by rename, so a reader (or a crash) never sees half of one.
  if (absl::Status status = WriteFileAtomically(directory + "/oci-layout",
                                                R"({"imageLayoutVersion":"1.0.0"})");
      !status.ok()) {
    return status;
  }
  return WriteFileAtomically(index_path, *merged);
}

}  // namespace kim::build
