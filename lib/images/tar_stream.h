// Streaming tar: headers for writing an archive piece by piece, and a push parser that reads one
// as its bytes arrive (POSIX ustar, with pax and GNU long names), for image archives. Internal.
#ifndef KIM_LIB_IMAGES_TAR_STREAM_H_
#define KIM_LIB_IMAGES_TAR_STREAM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace kim {

// The size of a tar block; headers and data are padded to it.
inline constexpr size_t kTarBlockSize = 512;

// The header block(s) of a regular file `name` of `size` bytes (mode 0644, owner 0, mtime 0), a
// pax header first when the name does not fit ustar's fields.
std::string TarFileHeader(std::string_view name, uint64_t size);

// The header of a directory `name` (with its trailing "/").
std::string TarDirectoryHeader(std::string_view name);

// The zero bytes that pad `size` bytes of file data to a whole block.
std::string TarPadding(uint64_t size);

// The two zero blocks that end an archive.
std::string TarTrailer();

// One entry of an archive as the reader reports it.
struct TarEntry {
  // What the entry is.
  enum class Type { kFile, kDirectory, kSymlink, kHardLink, kOther };
  std::string name;      // path inside the archive, without a leading "./"
  Type type = Type::kOther;
  uint64_t size = 0;     // bytes of data that follow (files only)
  std::string link;      // target of a symlink or hard link
};

// Reads a tar archive pushed to it in pieces of any size. The handler sees each entry, then its
// data in order, then its end. Not thread-safe.
class TarReader {
 public:
  // What the reader reports to; any error it returns stops the reader and is returned by Feed.
  class Handler {
   public:
    virtual ~Handler() = default;
    // A new entry; for a file, its data follows through OnData and then OnEntryEnd (other
    // entries get neither).
    virtual absl::Status OnEntry(const TarEntry& entry) = 0;
    // The next piece of the current file's data.
    virtual absl::Status OnData(std::string_view data) = 0;
    // The current entry is complete.
    virtual absl::Status OnEntryEnd() = 0;
  };

  explicit TarReader(Handler* handler) : handler_(handler) {}

  // Parses `bytes`. InvalidArgument `not a tar archive` for a first header that is not one,
  // DataLoss for a later bad header.
  absl::Status Feed(std::string_view bytes);

  // The input has ended: DataLoss `the archive is truncated` unless it ended between entries.
  absl::Status Finish();

  // Whether at least one entry was read.
  bool saw_entries() const { return entries_ > 0; }

 private:
  absl::Status ParseHeader(std::string_view block);
  absl::Status EndEntry();

  Handler* handler_;
  std::string header_;        // the partial header block being collected
  std::string long_name_;     // collected GNU 'L' or pax path for the next entry
  std::string long_link_;     // the same for link names
  std::optional<uint64_t> size_override_;  // a pax "size" for the next entry
  std::string extension_;     // the data of a pax or GNU long-name entry being read
  char extension_type_ = 0;   // 0 when the current entry is an ordinary one
  uint64_t remaining_ = 0;    // data bytes of the current entry still to come
  uint64_t padding_ = 0;      // padding bytes still to skip after them
  bool in_entry_ = false;     // the handler has seen OnEntry but not OnEntryEnd
  bool ended_ = false;        // the zero block that ends the archive was read
  uint64_t entries_ = 0;
};

}  // namespace kim

#endif  // KIM_LIB_IMAGES_TAR_STREAM_H_
