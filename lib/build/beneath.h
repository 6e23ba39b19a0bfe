// Confined file operations under one directory: every path is resolved with openat2's
// RESOLVE_BENEATH, so neither `..` nor a symlink (planted by whoever sends the tree) can lead a
// write outside it. What the local-export receiver writes through. Internal.
#ifndef KIM_LIB_BUILD_BENEATH_H_
#define KIM_LIB_BUILD_BENEATH_H_

#include <string>

#include "absl/status/statusor.h"

namespace kim::build {

// An open directory and the operations on paths beneath it. Move-only; not thread-safe.
class Beneath {
 public:
  // Opens `dir` (which must exist) as the root of every later path.
  static absl::StatusOr<Beneath> Open(const std::string& dir);

  Beneath(Beneath&& other) noexcept : fd_(other.fd_), dir_(std::move(other.dir_)) { other.fd_ = -1; }
  Beneath& operator=(Beneath&&) = delete;
  ~Beneath();

  // The parent of `rel` (a relative, cleaned path), opened beneath the root, and its last name.
  // PermissionDenied `refusing PATH: it leads outside DIR` when the parent escapes (through
  // `..` or a symlink pointing out), NotFound when it does not exist.
  struct Parent {
    int fd = -1;
    std::string name;
  };
  absl::StatusOr<Parent> OpenParent(const std::string& rel) const;

  // Opens `rel` itself beneath the root, without following a last symlink (O_NOFOLLOW).
  absl::StatusOr<int> OpenBeneath(const std::string& rel, int flags) const;

  const std::string& dir() const { return dir_; }

 private:
  Beneath(int fd, std::string dir) : fd_(fd), dir_(std::move(dir)) {}
  absl::StatusOr<int> Resolve(const std::string& rel, int flags, const std::string& shown) const;

  int fd_;
  std::string dir_;
};

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_BENEATH_H_
