// fsutil receiver (type=local export): files are created as their STATs arrive, filled from DATA
// packets, and get their modes and times once complete; directories get theirs at the end.
// Every path is resolved beneath the destination (lib/build/beneath.h) and every last name is
// created with the *at calls on its parent's descriptor, never following a symlink: a hostile
// daemon cannot write outside the destination, whatever links it sends first.
#include "lib/build/file_receiver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/build/beneath.h"
#include "lib/build/context_walker.h"
#include "lib/build/pattern_matcher.h"

namespace kim::build {
namespace {

using fsutil::types::Packet;

absl::Status Errno(const std::string& op, const std::string& path) {
  return absl::InternalError(absl::StrCat(op, " ", path, ": ", std::strerror(errno)));
}

// Closes a descriptor when it goes out of scope.
struct ScopedFd {
  int fd = -1;
  ~ScopedFd() {
    if (fd >= 0) close(fd);
  }
};

void SetTimes(struct timespec (&times)[2], int64_t mtime_ns) {
  times[0].tv_sec = mtime_ns / 1000000000;
  times[0].tv_nsec = mtime_ns % 1000000000;
  times[1] = times[0];
}

// Refuses what a sender must never name: absolute paths, "..", the destination itself.
absl::Status CheckRelative(const std::string& rel, const std::string& given) {
  if (rel.starts_with("/") || rel == ".." || rel.starts_with("../") || rel == "." || rel.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("refusing path ", given));
  }
  return absl::OkStatus();
}

uint32_t PermBits(uint32_t go_mode) {
  uint32_t mode = go_mode & 0777;
  if (go_mode & kGoModeSetuid) mode |= S_ISUID;
  if (go_mode & kGoModeSetgid) mode |= S_ISGID;
  if (go_mode & kGoModeSticky) mode |= S_ISVTX;
  return mode;
}

struct PendingFile {
  std::string path;  // for messages
  uint32_t mode = 0;
  int64_t mtime = 0;
  uint32_t uid = 0, gid = 0;
  int fd = -1;
};

// One transfer's state: the confined destination, files awaiting data, directories to finish.
class Receiver {
 public:
  explicit Receiver(Beneath root) : root_(std::move(root)), as_root_(geteuid() == 0) {}

  ~Receiver() {
    for (auto& [id, file] : files_) close(file.fd);
  }

  // Creates what a STAT names; asks for a regular file's data through `write`.
  absl::Status OnStat(const fsutil::types::Stat& stat,
                      const std::function<bool(const Packet&)>& write) {
    const std::string rel = CleanPath(stat.path());
    if (absl::Status status = CheckRelative(rel, stat.path()); !status.ok()) return status;
    auto parent = root_.OpenParent(rel);
    if (!parent.ok()) return parent.status();
    ScopedFd dir{parent->fd};
    const char* name = parent->name.c_str();
    const std::string shown = root_.dir() + "/" + rel;
    const uint32_t mode = stat.mode();
    const uint32_t id = ordinal_++;
    if (mode & kGoModeDir) {
      if (mkdirat(dir.fd, name, 0700) != 0 && errno != EEXIST) return Errno("mkdir", shown);
      dirs_.push_back(stat);
      return absl::OkStatus();
    }
    unlinkat(dir.fd, name, 0);  // whatever held the name (a file, a link) goes first
    if (mode & kGoModeSymlink) {
      // The link itself may point anywhere: it is never followed when writing.
      if (symlinkat(stat.linkname().c_str(), dir.fd, name) != 0) return Errno("symlink", shown);
      if (as_root_) (void)!fchownat(dir.fd, name, stat.uid(), stat.gid(), AT_SYMLINK_NOFOLLOW);
      struct timespec times[2];
      SetTimes(times, stat.modtime());
      utimensat(dir.fd, name, times, AT_SYMLINK_NOFOLLOW);
      return absl::OkStatus();
    }
    if ((mode & kGoModeType) == 0 && !stat.linkname().empty()) return HardLink(stat, dir.fd, name, shown);
    if ((mode & kGoModeType) == 0) {
      const int fd = openat(dir.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) return Errno("open", shown);
      files_[id] = PendingFile{.path = shown, .mode = PermBits(mode), .mtime = stat.modtime(),
                               .uid = stat.uid(), .gid = stat.gid(), .fd = fd};
      Packet request;
      request.set_type(Packet::PACKET_REQ);
      request.set_id(id);
      if (!write(request)) return absl::UnavailableError("failed to request file data");
      return absl::OkStatus();
    }
    if (!as_root_) return absl::OkStatus();  // devices and fifos need root
    mode_t type = S_IFIFO;
    if (mode & kGoModeCharDevice) {
      type = S_IFCHR;
    } else if (mode & kGoModeDevice) {
      type = S_IFBLK;
    }
    if (mknodat(dir.fd, name, type | PermBits(mode),
                makedev(static_cast<unsigned>(stat.devmajor()),
                        static_cast<unsigned>(stat.devminor()))) != 0) {
      return Errno("mknod", shown);
    }
    return absl::OkStatus();
  }

  // Writes a DATA packet; an empty one completes its file. Sets `completed` then.
  absl::Status OnData(const Packet& packet, bool& completed) {
    completed = false;
    auto it = files_.find(packet.id());
    if (it == files_.end()) return absl::InvalidArgumentError("data for an unknown file");
    PendingFile& file = it->second;
    if (packet.data().empty()) {
      if (as_root_) (void)!fchown(file.fd, file.uid, file.gid);
      fchmod(file.fd, file.mode);
      struct timespec times[2];
      SetTimes(times, file.mtime);
      futimens(file.fd, times);
      const int fd = file.fd;
      const std::string path = file.path;
      files_.erase(it);
      if (close(fd) != 0) return Errno("close", path);
      completed = true;
      return absl::OkStatus();
    }
    const std::string& data = packet.data();
    for (size_t done = 0; done < data.size();) {
      const ssize_t n = ::write(file.fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("write", file.path);
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  bool all_files_done() const { return files_.empty(); }

  // Gives the directories their owners, modes and times, deepest first.
  void FinishDirectories() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      auto fd = root_.OpenBeneath(CleanPath(it->path()), O_RDONLY | O_DIRECTORY);
      if (!fd.ok()) continue;
      ScopedFd dir{*fd};
      if (as_root_) (void)!fchown(dir.fd, it->uid(), it->gid());
      fchmod(dir.fd, PermBits(it->mode()));
      struct timespec times[2];
      SetTimes(times, it->modtime());
      futimens(dir.fd, times);
    }
  }

 private:
  // A hard link to an entry sent before; the target is resolved beneath the destination too,
  // and a symlink target is linked as the link itself (linkat without AT_SYMLINK_FOLLOW).
  absl::Status HardLink(const fsutil::types::Stat& stat, int dir, const char* name,
                        const std::string& shown) {
    const std::string target = CleanPath(stat.linkname());
    if (absl::Status status = CheckRelative(target, stat.linkname()); !status.ok()) return status;
    auto target_parent = root_.OpenParent(target);
    if (!target_parent.ok()) return target_parent.status();
    ScopedFd target_dir{target_parent->fd};
    if (linkat(target_dir.fd, target_parent->name.c_str(), dir, name, 0) != 0) {
      return Errno("link", shown);
    }
    return absl::OkStatus();
  }

  Beneath root_;
  const bool as_root_;
  std::unordered_map<uint32_t, PendingFile> files_;
  std::vector<fsutil::types::Stat> dirs_;
  uint32_t ordinal_ = 0;
};

}  // namespace

absl::Status ReceiveDirectory(const std::string& dest,
                              const std::function<bool(Packet*)>& read,
                              const std::function<bool(const Packet&)>& write) {
  std::error_code created;
  std::filesystem::create_directories(dest, created);  // like buildx: parents too
  if (created) return absl::UnknownError(absl::StrCat("mkdir ", dest, ": ", created.message()));
  auto root = Beneath::Open(dest);
  if (!root.ok()) return root.status();
  Receiver receiver(*std::move(root));
  bool stats_done = false;
  bool fin_sent = false;
  auto send_fin_if_done = [&]() -> bool {
    if (stats_done && receiver.all_files_done() && !fin_sent) {
      Packet fin;
      fin.set_type(Packet::PACKET_FIN);
      fin_sent = true;
      return write(fin);
    }
    return true;
  };
  Packet packet;
  while (read(&packet)) {
    if (packet.type() == Packet::PACKET_FIN) break;
    if (packet.type() == Packet::PACKET_ERR) {
      return absl::UnknownError(absl::StrCat("error from sender: ", packet.data()));
    }
    if (packet.type() == Packet::PACKET_STAT && !packet.has_stat()) {
      stats_done = true;
      if (!send_fin_if_done()) return absl::UnavailableError("failed to send FIN");
    } else if (packet.type() == Packet::PACKET_STAT) {
      if (absl::Status status = receiver.OnStat(packet.stat(), write); !status.ok()) return status;
    } else if (packet.type() == Packet::PACKET_DATA) {
      bool completed = false;
      if (absl::Status status = receiver.OnData(packet, completed); !status.ok()) return status;
      if (completed && !send_fin_if_done()) return absl::UnavailableError("failed to send FIN");
    }
  }
  if (!fin_sent) return absl::UnavailableError("the transfer ended early");
  receiver.FinishDirectories();
  return absl::OkStatus();
}

}  // namespace kim::build
