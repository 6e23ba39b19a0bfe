// ArchiveEntries: where each file of an archive goes, decided from its path and size.
#include "lib/images/image_archive_entries.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kim {
namespace {

constexpr int64_t kKeptSize = 4 << 20;      // blobs this small are kept to be parsed
constexpr int64_t kDocumentSize = 16 << 20;  // other files must be documents this small
constexpr size_t kWriteChunk = 1 << 20;

// "sha256:<hex>" for a path "blobs/sha256/<hex>", else "".
std::string BlobDigest(const std::string& path) {
  std::vector<std::string> parts = absl::StrSplit(path, '/');
  if (parts.size() != 3 || parts[0] != "blobs") return "";
  std::string digest = absl::StrCat(parts[1], ":", parts[2]);
  return Digest::Validate(digest).ok() ? digest : "";
}

// `link` resolved against the directory of `path` ("a/b" + "../c/d" -> "c/d").
std::string ResolveLink(const std::string& path, const std::string& link, bool relative) {
  std::vector<std::string> parts;
  if (relative && !link.starts_with("/")) {
    parts = absl::StrSplit(path, '/');
    parts.pop_back();
  }
  for (absl::string_view part : absl::StrSplit(link, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.emplace_back(part.data(), part.size());
  }
  return absl::StrJoin(parts, "/");
}

}  // namespace

absl::Status ArchiveEntries::Feed(std::string_view bytes) {
  if (!archive_started_) {
    archive_head_.append(bytes);
    if (archive_head_.size() < 2) return absl::OkStatus();
    archive_started_ = true;
    if (LooksGzipped(archive_head_)) {
      archive_gzip_ = std::make_unique<GzipInflater>(
          [this](std::string_view plain) { return FeedTar(plain); });
    }
    const std::string head = std::move(archive_head_);
    return archive_gzip_ ? archive_gzip_->Feed(head) : FeedTar(head);
  }
  return archive_gzip_ ? archive_gzip_->Feed(bytes) : FeedTar(bytes);
}

absl::Status ArchiveEntries::FeedTar(std::string_view bytes) {
  absl::Status status = tar_.Feed(bytes);
  if (absl::IsInvalidArgument(status) && !tar_.saw_entries()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the input is not an image archive: ", status.message(),
                     archive_gzip_ ? " (inside gzip)" : " (nor gzip)"));
  }
  return status;
}

absl::Status ArchiveEntries::Finish() {
  if (!archive_started_) {
    if (archive_head_.empty()) return absl::InvalidArgumentError("the archive is empty");
    if (absl::Status status = FeedTar(archive_head_); !status.ok()) return status;
  }
  if (archive_gzip_) {
    if (absl::Status status = archive_gzip_->Finish(); !status.ok()) {
      return absl::DataLossError(absl::StrCat("the archive is truncated: ", status.message()));
    }
  }
  absl::Status status = tar_.Finish();
  if (absl::IsInvalidArgument(status)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the input is not an image archive: ", status.message(),
                     archive_gzip_ ? " (inside gzip)" : " (nor gzip)"));
  }
  return status;
}

const ArchiveFile* ArchiveEntries::File(const std::string& path) const {
  std::string current = ResolveLink("", path, false);
  for (int hops = 0; hops < 16; ++hops) {
    if (auto it = files_.find(current); it != files_.end()) return &it->second;
    auto link = links_.find(current);
    if (link == links_.end()) return nullptr;
    current = link->second;
  }
  return nullptr;
}

const ArchiveFile* ArchiveEntries::Blob(const std::string& digest) const {
  auto it = by_digest_.find(digest);
  return it == by_digest_.end() ? nullptr : File(it->second);
}

absl::Status ArchiveEntries::OnEntry(const TarEntry& entry) {
  if (entry.type == TarEntry::Type::kSymlink || entry.type == TarEntry::Type::kHardLink) {
    links_[entry.name] =
        ResolveLink(entry.name, entry.link, entry.type == TarEntry::Type::kSymlink);
    return absl::OkStatus();
  }
  if (entry.type != TarEntry::Type::kFile) return absl::OkStatus();
  name_ = entry.name;
  file_ = ArchiveFile{.size = static_cast<int64_t>(entry.size)};
  expected_ = BlobDigest(entry.name);
  head_.clear();
  head_known_ = false;
  layer_gzip_.reset();
  diff_digester_.reset();
  digester_ = std::make_unique<Sha256Digester>();
  const bool layer_file = absl::EndsWith(entry.name, ".tar");
  if (expected_.empty() && !layer_file && file_.size > kDocumentSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "archive entry ", entry.name, " is ", file_.size,
        " bytes: too big for an image archive's document and not a blob or layer"));
  }
  file_.kept = file_.size <= kKeptSize && !layer_file;
  if (!expected_.empty() || layer_file) {
    auto writer = ContainerdContentWriter::Open(
        connection_, lease_, absl::StrCat("kim-load-", lease_, "-", ++count_), expected_,
        file_.size);
    if (!writer.ok()) return writer.status();
    writer_ = *std::move(writer);
    file_.stored = true;  // written now, or already there (no writer)
  }
  return absl::OkStatus();
}

absl::Status ArchiveEntries::Digest(std::string_view data) {
  digester_->Update(data);
  if (!head_known_) {
    head_.append(data.substr(0, 2 - std::min<size_t>(head_.size(), 2)));
    if (head_.size() < 2) return absl::OkStatus();
    head_known_ = true;
    if (LooksGzipped(head_)) {
      diff_digester_ = std::make_unique<Sha256Digester>();
      layer_gzip_ = std::make_unique<GzipInflater>([this](std::string_view plain) {
        diff_digester_->Update(plain);
        return absl::OkStatus();
      });
    }
  }
  if (layer_gzip_) {
    if (absl::Status status = layer_gzip_->Feed(data); !status.ok()) {
      // Not a valid gzip stream after all: the layer's uncompressed digest stays unknown.
      layer_gzip_.reset();
      diff_digester_.reset();
      file_.diff_id = "unknown";
    }
  }
  return absl::OkStatus();
}

absl::Status ArchiveEntries::OnData(std::string_view data) {
  if (file_.kept) file_.content.append(data);
  if (absl::Status status = Digest(data); !status.ok()) return status;
  if (!writer_) return absl::OkStatus();
  pending_.append(data);
  return pending_.size() >= kWriteChunk ? Flush() : absl::OkStatus();
}

absl::Status ArchiveEntries::Flush() {
  if (pending_.empty() || !writer_) return absl::OkStatus();
  absl::Status status = writer_->Write(pending_);
  pending_.clear();
  return status;
}

absl::Status ArchiveEntries::OnEntryEnd() {
  if (absl::Status status = Flush(); !status.ok()) return status;
  file_.digest = digester_->Current().String();
  if (!expected_.empty() && file_.digest != expected_) {
    return absl::DataLossError(absl::StrCat("archive entry ", name_, " does not match its digest (",
                                            file_.digest, "): the archive is corrupt or was "
                                            "tampered with"));
  }
  if (writer_) {
    auto committed = writer_->Commit();
    writer_.reset();
    if (!committed.ok()) return committed.status();
  }
  if (file_.diff_id.empty()) {
    if (layer_gzip_ && layer_gzip_->Finish().ok()) {
      file_.diff_id = diff_digester_->Current().String();
    } else if (!layer_gzip_) {
      file_.diff_id = file_.digest;
    }
  }
  if (file_.diff_id == "unknown") file_.diff_id.clear();
  if (file_.stored) stored_.insert(file_.digest);
  by_digest_.emplace(file_.digest, name_);
  files_[name_] = std::move(file_);
  file_ = ArchiveFile{};
  return absl::OkStatus();
}

}  // namespace kim
