// fsutil receiver (type=local export): files are created as their STATs arrive, filled from DATA
// packets, and get their modes and times once complete; directories get theirs at the end.
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
#include "lib/build/context_walker.h"
#include "lib/build/pattern_matcher.h"

namespace kim::build {
namespace {

using fsutil::types::Packet;

absl::Status Errno(const std::string& op, const std::string& path) {
  return absl::InternalError(absl::StrCat(op, " ", path, ": ", std::strerror(errno)));
}

void SetTimes(const std::string& path, int64_t mtime_ns, bool symlink) {
  struct timespec times[2];
  times[0].tv_sec = mtime_ns / 1000000000;
  times[0].tv_nsec = mtime_ns % 1000000000;
  times[1] = times[0];
  utimensat(AT_FDCWD, path.c_str(), times, symlink ? AT_SYMLINK_NOFOLLOW : 0);
}

uint32_t PermBits(uint32_t go_mode) {
  uint32_t mode = go_mode & 0777;
  if (go_mode & kGoModeSetuid) mode |= S_ISUID;
  if (go_mode & kGoModeSetgid) mode |= S_ISGID;
  if (go_mode & kGoModeSticky) mode |= S_ISVTX;
  return mode;
}

struct PendingFile {
  std::string path;
  uint32_t mode = 0;
  int64_t mtime = 0;
  uint32_t uid = 0, gid = 0;
  int fd = -1;
};

}  // namespace

absl::Status ReceiveDirectory(const std::string& dest,
                              const std::function<bool(Packet*)>& read,
                              const std::function<bool(const Packet&)>& write) {
  std::error_code created;
  std::filesystem::create_directories(dest, created);  // like buildx: parents too
  if (created) return absl::UnknownError(absl::StrCat("mkdir ", dest, ": ", created.message()));
  const bool root = geteuid() == 0;
  std::unordered_map<uint32_t, PendingFile> files;
  std::vector<fsutil::types::Stat> dirs;
  uint32_t ordinal = 0;
  bool stats_done = false;
  bool fin_sent = false;
  Packet packet;
  auto send_fin_if_done = [&]() -> bool {
    if (stats_done && files.empty() && !fin_sent) {
      Packet fin;
      fin.set_type(Packet::PACKET_FIN);
      fin_sent = true;
      return write(fin);
    }
    return true;
  };
  while (read(&packet)) {
    switch (packet.type()) {
      case Packet::PACKET_STAT: {
        if (!packet.has_stat()) {
          stats_done = true;
          if (!send_fin_if_done()) return absl::UnavailableError("failed to send FIN");
          break;
        }
        const fsutil::types::Stat& stat = packet.stat();
        const std::string rel = CleanPath(stat.path());
        if (rel.starts_with("/") || rel == ".." || rel.starts_with("../") || rel == ".") {
          return absl::InvalidArgumentError(absl::StrCat("refusing path ", stat.path()));
        }
        const std::string path = dest + "/" + rel;
        const uint32_t mode = stat.mode();
        const uint32_t id = ordinal++;
        if (mode & kGoModeDir) {
          if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return Errno("mkdir", path);
          dirs.push_back(stat);
        } else if (mode & kGoModeSymlink) {
          unlink(path.c_str());
          if (symlink(stat.linkname().c_str(), path.c_str()) != 0) return Errno("symlink", path);
          if (root) (void)!lchown(path.c_str(), stat.uid(), stat.gid());
          SetTimes(path, stat.modtime(), true);
        } else if ((mode & kGoModeType) == 0 && !stat.linkname().empty()) {
          const std::string target = dest + "/" + CleanPath(stat.linkname());
          unlink(path.c_str());
          if (link(target.c_str(), path.c_str()) != 0) return Errno("link", path);
        } else if ((mode & kGoModeType) == 0) {
          unlink(path.c_str());
          const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
          if (fd < 0) return Errno("open", path);
          files[id] = PendingFile{.path = path, .mode = PermBits(mode), .mtime = stat.modtime(),
                                  .uid = stat.uid(), .gid = stat.gid(), .fd = fd};
          Packet req;
          req.set_type(Packet::PACKET_REQ);
          req.set_id(id);
          if (!write(req)) return absl::UnavailableError("failed to request file data");
        } else if (root) {
          mode_t type = S_IFIFO;
          if (mode & kGoModeCharDevice) {
            type = S_IFCHR;
          } else if (mode & kGoModeDevice) {
            type = S_IFBLK;
          }
          unlink(path.c_str());
          if (mknod(path.c_str(), type | PermBits(mode),
                    makedev(static_cast<unsigned>(stat.devmajor()),
                            static_cast<unsigned>(stat.devminor()))) != 0) {
            return Errno("mknod", path);
          }
        }
        break;
      }
      case Packet::PACKET_DATA: {
        auto it = files.find(packet.id());
        if (it == files.end()) return absl::InvalidArgumentError("data for an unknown file");
        PendingFile& file = it->second;
        if (packet.data().empty()) {
          if (close(file.fd) != 0) return Errno("close", file.path);
          if (root) (void)!chown(file.path.c_str(), file.uid, file.gid);
          chmod(file.path.c_str(), file.mode);
          SetTimes(file.path, file.mtime, false);
          files.erase(it);
          if (!send_fin_if_done()) return absl::UnavailableError("failed to send FIN");
          break;
        }
        const std::string& data = packet.data();
        for (size_t done = 0; done < data.size();) {
          const ssize_t n = ::write(file.fd, data.data() + done, data.size() - done);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) return Errno("write", file.path);
          done += static_cast<size_t>(n);
        }
        break;
      }
      case Packet::PACKET_FIN:
        goto finished;
      case Packet::PACKET_ERR:
        return absl::UnknownError(absl::StrCat("error from sender: ", packet.data()));
      default:
        break;
    }
  }
finished:
  for (auto& [id, file] : files) close(file.fd);
  if (!fin_sent) return absl::UnavailableError("the transfer ended early");
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    const std::string path = dest + "/" + CleanPath(it->path());
    if (root) (void)!chown(path.c_str(), it->uid(), it->gid());
    chmod(path.c_str(), PermBits(it->mode()));
    SetTimes(path, it->modtime(), false);
  }
  return absl::OkStatus();
}

}  // namespace kim::build
