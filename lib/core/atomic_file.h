// AtomicFile: a file written under a temporary name beside its destination and renamed into
// place once complete, so readers see the old file or the whole new one, never a half. Internal.
#ifndef KIM_LIB_CORE_ATOMIC_FILE_H_
#define KIM_LIB_CORE_ATOMIC_FILE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kim {

// One replacement of `path`. Destroyed without Commit, it removes its temporary file and
// leaves `path` as it was. Not thread-safe.
class AtomicFile {
 public:
  // Creates the temporary file (mode 0644) in `path`'s directory.
  static absl::StatusOr<std::unique_ptr<AtomicFile>> Create(const std::string& path);

  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  // Appends `data`; DataLoss `cannot write PATH: ...` on error.
  absl::Status Write(std::string_view data);

  // Flushes the data to disk and renames the file over `path`.
  absl::Status Commit();

 private:
  AtomicFile(std::string path, std::string temporary, int fd)
      : path_(std::move(path)), temporary_(std::move(temporary)), fd_(fd) {}

  std::string path_;
  std::string temporary_;
  int fd_;
  bool committed_ = false;
};

// Replaces `path` with `contents` through an AtomicFile.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace kim

#endif  // KIM_LIB_CORE_ATOMIC_FILE_H_
