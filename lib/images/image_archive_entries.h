// The files of an image archive as a tar reader meets them: blobs and layers streamed into
// containerd's content store (each checked against its digest), small documents kept in memory
// for the reader to interpret. Internal to image_archive_reader.
#ifndef KIM_LIB_IMAGES_IMAGE_ARCHIVE_ENTRIES_H_
#define KIM_LIB_IMAGES_IMAGE_ARCHIVE_ENTRIES_H_

#include <map>
#include <memory>
#include <set>
#include <string>

#include "kim/digest.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/containerd_content_writer.h"
#include "lib/images/gzip_stream.h"
#include "lib/images/tar_stream.h"

namespace kim {

// One regular file of the archive.
struct ArchiveFile {
  std::string digest;   // its content's digest (set for every file once read)
  int64_t size = 0;
  std::string diff_id;  // digest of its uncompressed content: same as digest unless gzip
  bool stored = false;  // in the content store (written now or there before)
  bool kept = false;    // `content` holds it
  std::string content;
};

// Collects an archive's files. Feed it the archive's bytes (gzip or not); Finish checks that it
// ended where it should. Not thread-safe.
class ArchiveEntries final : public TarReader::Handler {
 public:
  ArchiveEntries(std::shared_ptr<const ContainerdConnection> connection, std::string lease)
      : connection_(std::move(connection)), lease_(std::move(lease)) {}

  absl::Status Feed(std::string_view bytes);
  absl::Status Finish();

  // The file at `path` (links followed), or nullptr.
  const ArchiveFile* File(const std::string& path) const;
  // The (first) file whose content has `digest`, or nullptr.
  const ArchiveFile* Blob(const std::string& digest) const;
  // Whether the content store has `digest` (written by this import or there before).
  bool Stored(const std::string& digest) const { return stored_.contains(digest); }

  absl::Status OnEntry(const TarEntry& entry) override;
  absl::Status OnData(std::string_view data) override;
  absl::Status OnEntryEnd() override;

 private:
  absl::Status FeedTar(std::string_view bytes);
  absl::Status Flush();
  absl::Status Digest(std::string_view data);

  std::shared_ptr<const ContainerdConnection> connection_;
  std::string lease_;
  TarReader tar_{this};
  std::unique_ptr<GzipInflater> archive_gzip_;  // when the whole archive is gzipped
  std::string archive_head_;                    // its first bytes until gzip or not is known
  bool archive_started_ = false;
  std::map<std::string, ArchiveFile> files_;
  std::map<std::string, std::string> links_;    // path -> the path it links to
  std::set<std::string> stored_;
  std::map<std::string, std::string> by_digest_;  // digest -> path of the first such file
  uint64_t count_ = 0;

  // The entry being read.
  std::string name_;
  ArchiveFile file_;
  std::string expected_;                            // for blobs/ entries
  std::unique_ptr<ContainerdContentWriter> writer_;
  std::string pending_;                             // bytes for the writer, sent by the MiB
  std::unique_ptr<Sha256Digester> digester_;
  std::string head_;                                // the entry's first bytes (gzip or not)
  bool head_known_ = false;
  std::unique_ptr<GzipInflater> layer_gzip_;
  std::unique_ptr<Sha256Digester> diff_digester_;
};

}  // namespace kim

#endif  // KIM_LIB_IMAGES_IMAGE_ARCHIVE_ENTRIES_H_
