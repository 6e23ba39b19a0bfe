// The fsutil-compatible directory walk (fsutil's fs.go, filter.go, stat.go, followlinks.go).
#include "lib/build/context_walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fnmatch.h>
#include <set>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "lib/build/pattern_matcher.h"

namespace kim::build {
namespace {

absl::Status ErrnoStatus(int err, const std::string& op, const std::string& path) {
  std::string message = absl::StrCat(op, " ", path, ": ", std::strerror(err));
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  if (err == ENOENT) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

absl::Status LoadXattrs(const std::string& path, fsutil::types::Stat* stat) {
  ssize_t size = llistxattr(path.c_str(), nullptr, 0);
  if (size < 0) {
    if (errno == ENOTSUP || errno == ENODATA) return absl::OkStatus();
    return ErrnoStatus(errno, "failed to xattr", path);
  }
  if (size == 0) return absl::OkStatus();
  std::string names(static_cast<size_t>(size), '\0');
  size = llistxattr(path.c_str(), names.data(), names.size());
  if (size < 0) return absl::OkStatus();
  names.resize(static_cast<size_t>(size));
  for (size_t pos = 0; pos < names.size();) {
    const std::string key = names.c_str() + pos;
    pos += key.size() + 1;
    if (key.empty()) continue;
    const ssize_t vsize = lgetxattr(path.c_str(), key.c_str(), nullptr, 0);
    if (vsize < 0) continue;
    std::string value(static_cast<size_t>(vsize), '\0');
    const ssize_t got = lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
    if (got < 0) continue;
    value.resize(static_cast<size_t>(got));
    (*stat->mutable_xattrs())[key] = value;
  }
  return absl::OkStatus();
}

class Walker {
 public:
  Walker(std::string root, const std::function<absl::Status(fsutil::types::Stat&)>& emit)
      : root_(std::move(root)), emit_(emit) {}

  absl::Status Init(const WalkFilter& filter) {
    std::vector<std::string> includes = filter.include_patterns;
    if (!filter.follow_paths.empty()) {
      for (std::string& path : ResolveFollowPaths(root_, filter.follow_paths)) {
        if (std::find(includes.begin(), includes.end(), path) == includes.end()) {
          includes.push_back(std::move(path));
        }
      }
    }
    if (!includes.empty()) {
      auto matcher = PatternMatcher::Create(includes);
      if (!matcher.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid includepatterns: ", matcher.status().message()));
      }
      include_ = std::make_unique<PatternMatcher>(*std::move(matcher));
      for (const Pattern& p : include_->patterns()) {
        if (!p.exclusion() && p.HasWildcards()) only_prefix_includes_ = false;
      }
    }
    if (!filter.exclude_patterns.empty()) {
      auto matcher = PatternMatcher::Create(filter.exclude_patterns);
      if (!matcher.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid excludepatterns: ", matcher.status().message()));
      }
      exclude_ = std::make_unique<PatternMatcher>(*std::move(matcher));
      for (const Pattern& p : exclude_->patterns()) {
        if (p.exclusion() && p.HasWildcards()) only_prefix_exclude_exceptions_ = false;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Walk() { return WalkDir(""); }

 private:
  struct Frame {
    std::string rel;
    PatternMatcher::MatchInfo include_info, exclude_info;
    bool sent = false;
  };

  absl::Status MakeStat(const std::string& rel, const struct stat& st, fsutil::types::Stat* out) {
    const std::string abs = root_ + "/" + rel;
    out->set_path(rel);
    uint32_t mode = GoFileMode(st.st_mode);
    out->set_modtime(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
    // uid/gid stay 0, like buildctl's client (the daemon owns the files as root).
    if (!S_ISDIR(st.st_mode)) {
      const uint64_t rdev = st.st_rdev;
      out->set_devmajor(static_cast<int64_t>((rdev >> 8) & 0xfff));
      out->set_devminor(static_cast<int64_t>((rdev & 0xff) | ((rdev >> 12) & 0xfff00)));
      out->set_size(st.st_size);
      bool linked = false;
      if (st.st_nlink > 1) {
        auto [it, inserted] = inodes_.try_emplace(st.st_ino, rel);
        if (!inserted) {
          out->set_linkname(it->second);
          out->set_size(0);
          linked = true;
        }
      }
      if (!linked && S_ISLNK(st.st_mode)) {
        std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
        const ssize_t n = readlink(abs.c_str(), target.data(), target.size());
        if (n < 0) return ErrnoStatus(errno, "readlink", abs);
        target.resize(static_cast<size_t>(n));
        out->set_linkname(target);
      }
    }
    if (absl::Status status = LoadXattrs(abs, out); !status.ok()) return status;
    mode &= ~kGoModeSocket;
    out->set_mode(mode);
    return absl::OkStatus();
  }

  absl::Status Emit(const std::string& rel, const struct stat& st) {
    fsutil::types::Stat stat;
    if (absl::Status status = MakeStat(rel, st, &stat); !status.ok()) return status;
    return emit_(stat);
  }

  // Sends the directories on the stack that were skipped so far but now have a child to send.
  absl::Status EmitPendingParents() {
    for (Frame& frame : stack_) {
      if (frame.sent) continue;
      struct stat st {};
      const std::string abs = root_ + "/" + frame.rel;
      if (lstat(abs.c_str(), &st) != 0) return ErrnoStatus(errno, "lstat", abs);
      if (absl::Status status = Emit(frame.rel, st); !status.ok()) return status;
      frame.sent = true;
    }
    return absl::OkStatus();
  }

  bool AnyPatternUnder(const PatternMatcher& matcher, bool exclusions, const std::string& dir) {
    const std::string dir_slash = dir + "/";
    for (const Pattern& p : matcher.patterns()) {
      if (p.exclusion() != exclusions) continue;
      if ((p.WithoutTrailingGlob() + "/").starts_with(dir_slash)) return true;
    }
    return false;
  }

  absl::Status WalkDir(const std::string& rel_dir) {
    const std::string abs_dir = rel_dir.empty() ? root_ : root_ + "/" + rel_dir;
    DIR* dir = opendir(abs_dir.c_str());
    if (dir == nullptr) {
      const int err = errno;
      if (!rel_dir.empty() && !stack_.back().sent && (err == EACCES || err == EPERM)) {
        return absl::OkStatus();
      }
      return ErrnoStatus(err, "open", abs_dir);
    }
    std::vector<std::string> names;
    while (struct dirent* entry = readdir(dir)) {
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      names.emplace_back(entry->d_name);
    }
    closedir(dir);
    std::sort(names.begin(), names.end());

    static const PatternMatcher::MatchInfo kNoInfo;
    for (const std::string& name : names) {
      const std::string rel = Join(rel_dir, name);
      const std::string abs = root_ + "/" + rel;
      struct stat st {};
      if (lstat(abs.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // removed while walking
        return ErrnoStatus(errno, "lstat", abs);
      }
      const bool is_dir = S_ISDIR(st.st_mode);
      const Frame* parent = stack_.empty() ? nullptr : &stack_.back();
      Frame frame{.rel = rel};
      bool skip = false;
      if (include_) {
        const bool m = include_->MatchesUsingParentResults(
            rel, parent ? parent->include_info : kNoInfo, &frame.include_info);
        if (!m) {
          if (is_dir && only_prefix_includes_ && !AnyPatternUnder(*include_, false, rel)) {
            continue;
          }
          skip = true;
        }
      }
      if (exclude_) {
        const bool m = exclude_->MatchesUsingParentResults(
            rel, parent ? parent->exclude_info : kNoInfo, &frame.exclude_info);
        if (m) {
          if (is_dir && only_prefix_exclude_exceptions_) {
            if (!exclude_->has_exclusions() || !AnyPatternUnder(*exclude_, true, rel)) continue;
          }
          skip = true;
        }
      }
      if (!skip) {
        if (absl::Status status = EmitPendingParents(); !status.ok()) return status;
        if (absl::Status status = Emit(rel, st); !status.ok()) return status;
        frame.sent = true;
      }
      if (is_dir) {
        stack_.push_back(std::move(frame));
        absl::Status status = WalkDir(rel);
        stack_.pop_back();
        if (!status.ok()) return status;
      }
    }
    return absl::OkStatus();
  }

  const std::string root_;
  const std::function<absl::Status(fsutil::types::Stat&)>& emit_;
  std::unique_ptr<PatternMatcher> include_, exclude_;
  bool only_prefix_includes_ = true;
  bool only_prefix_exclude_exceptions_ = true;
  std::vector<Frame> stack_;
  std::unordered_map<ino_t, std::string> inodes_;
};

// fsutil's symlinkResolver.
class SymlinkResolver {
 public:
  explicit SymlinkResolver(const std::string& root) : root_(root) {}

  void Append(std::string p, int depth = 0) {
    if (depth > 64) return;
    p = CleanPath("./" + p);
    if (p.starts_with("/")) p = CleanPath(p.substr(1));
    std::string current;
    while (true) {
      const size_t slash = p.find('/');
      const std::string part = p.substr(0, slash);
      current = current.empty() || current == "." ? part : current + "/" + part;
      std::vector<std::string> targets = ReadSymlink(current, true);
      p = slash == std::string::npos ? "" : p.substr(slash + 1);
      if (p.empty() || !targets.empty()) {
        if (resolved_.contains(current)) return;
      }
      if (!targets.empty()) {
        resolved_.insert(current);
        for (const std::string& target : targets) {
          Append(p.empty() ? target : target + "/" + p, depth + 1);
        }
        return;
      }
      if (p.empty()) {
        resolved_.insert(current);
        return;
      }
    }
  }

  std::vector<std::string> Result() const { return {resolved_.begin(), resolved_.end()}; }

 private:
  std::vector<std::string> ReadSymlink(const std::string& p, bool allow_wildcard) {
    const size_t slash = p.rfind('/');
    const std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
    const std::string dir = slash == std::string::npos ? "" : p.substr(0, slash);
    if (allow_wildcard && base.find_first_of("*?[\\") != std::string::npos) {
      std::vector<std::string> out;
      DIR* d = opendir((dir.empty() ? root_ : root_ + "/" + dir).c_str());
      if (d == nullptr) return out;
      std::vector<std::string> names;
      while (struct dirent* entry = readdir(d)) {
        if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
        names.emplace_back(entry->d_name);
      }
      closedir(d);
      std::sort(names.begin(), names.end());
      for (const std::string& name : names) {
        if (fnmatch(base.c_str(), name.c_str(), FNM_PATHNAME) == 0) {
          for (std::string& t : ReadSymlink(Join(dir, name), false)) out.push_back(std::move(t));
        }
      }
      return out;
    }
    if (p == "." || p.empty()) return {};
    const std::string abs = root_ + "/" + p;
    struct stat st {};
    if (lstat(abs.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return {};
    char buffer[4096];
    const ssize_t n = readlink(abs.c_str(), buffer, sizeof buffer);
    if (n <= 0) return {};
    const std::string link = CleanPath(std::string(buffer, static_cast<size_t>(n)));
    if (link.starts_with("/")) return {link};
    return {CleanPath("/" + (dir.empty() ? link : dir + "/" + link))};
  }

  const std::string& root_;
  std::set<std::string> resolved_;
};

}  // namespace

uint32_t GoFileMode(uint32_t st_mode) {
  uint32_t mode = st_mode & 0777;
  switch (st_mode & S_IFMT) {
    case S_IFBLK: mode |= kGoModeDevice; break;
    case S_IFCHR: mode |= kGoModeDevice | kGoModeCharDevice; break;
    case S_IFDIR: mode |= kGoModeDir; break;
    case S_IFIFO: mode |= kGoModeNamedPipe; break;
    case S_IFLNK: mode |= kGoModeSymlink; break;
    case S_IFSOCK: mode |= kGoModeSocket; break;
    default: break;
  }
  if (st_mode & S_ISGID) mode |= kGoModeSetgid;
  if (st_mode & S_ISUID) mode |= kGoModeSetuid;
  if (st_mode & S_ISVTX) mode |= kGoModeSticky;
  return mode;
}

std::vector<std::string> ResolveFollowPaths(const std::string& root,
                                            const std::vector<std::string>& follow_paths) {
  SymlinkResolver resolver(root);
  for (const std::string& p : follow_paths) resolver.Append(p);
  return resolver.Result();
}

absl::Status WalkContext(const std::string& root, const WalkFilter& filter,
                         const std::function<absl::Status(fsutil::types::Stat&)>& emit) {
  Walker walker(root, emit);
  if (absl::Status status = walker.Init(filter); !status.ok()) return status;
  return walker.Walk();
}

}  // namespace kim::build
