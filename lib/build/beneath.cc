// Beneath: openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (Linux 5.6+).
#include "lib/build/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace kim::build {

absl::StatusOr<Beneath> Beneath::Open(const std::string& dir) {
  const int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("open ", dir, ": ", std::strerror(errno)));
  return Beneath(fd, dir);
}

Beneath::~Beneath() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<int> Beneath::Resolve(const std::string& rel, int flags,
                                     const std::string& shown) const {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? 0600 : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const std::string path = rel.empty() ? "." : rel;
  while (true) {
    const long fd = syscall(SYS_openat2, fd_, path.c_str(), &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == EXDEV) {
      return absl::PermissionDeniedError(
          absl::StrCat("refusing ", shown, ": it leads outside ", dir_, " (a symlink or ..)"));
    }
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(dir_, "/", rel, ": no such file"));
    return absl::InternalError(absl::StrCat("open ", dir_, "/", rel, ": ", std::strerror(errno)));
  }
}

absl::StatusOr<Beneath::Parent> Beneath::OpenParent(const std::string& rel) const {
  const size_t slash = rel.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
  auto fd = Resolve(parent, O_PATH | O_DIRECTORY, rel);
  if (!fd.ok()) return fd.status();
  return Parent{.fd = *fd, .name = slash == std::string::npos ? rel : rel.substr(slash + 1)};
}

absl::StatusOr<int> Beneath::OpenBeneath(const std::string& rel, int flags) const {
  return Resolve(rel, flags | O_NOFOLLOW, rel);
}

}  // namespace kim::build
