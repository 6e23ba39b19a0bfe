// RunProcess: posix_spawn with three pipes, one poll loop feeding stdin and draining stdout and
// stderr together so neither side can block the other, and a deadline enforced with SIGKILL.
#include "lib/core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace kim {
namespace {

// Debian's Abseil has its own string_view type; this bridges from the standard one.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Owns one file descriptor; closing twice is harmless.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }

  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Close() { Reset(-1); }
  void Reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Creates a close-on-exec pipe, so only the ends dup'ed onto 0/1/2 reach the child.
absl::Status MakePipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  return absl::OkStatus();
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  return S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0 && ::access(path.c_str(), X_OK) == 0;
}

// Blocks SIGPIPE for the calling thread while it writes to a child's stdin, and on destruction
// discards a SIGPIPE that those writes raised before restoring the thread's signal mask.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;
  ~ScopedSigpipeBlock() {
    if (got_epipe_ && !was_pending_) {
      struct timespec zero = {0, 0};
      while (::sigtimedwait(&pipe_set_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  void NoteEpipe() { got_epipe_ = true; }

 private:
  sigset_t pipe_set_;
  sigset_t old_mask_;
  bool was_pending_ = false;
  bool got_epipe_ = false;
};

int ExitCodeFromStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Milliseconds left before `deadline` for poll(): -1 for none, rounded up so we never spin.
int PollTimeoutMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return ms > 1000000 ? 1000000 : static_cast<int>(ms);
}

}  // namespace

absl::StatusOr<std::string> FindExecutable(std::string_view name) {
  if (name.empty()) return absl::NotFoundError("executable file not found in $PATH");
  if (name.find('/') != std::string_view::npos) {
    std::string path(name);
    if (IsExecutableFile(path)) return path;
    return absl::NotFoundError(absl::StrCat(Sv(name), ": no such executable file"));
  }
  const char* env_path = std::getenv("PATH");
  if (env_path != nullptr) {
    for (absl::string_view dir : absl::StrSplit(env_path, ':')) {
      if (dir.empty()) continue;  // Go refuses the implicit current directory too.
      std::string candidate = absl::StrCat(dir, "/", Sv(name));
      if (IsExecutableFile(candidate)) return candidate;
    }
  }
  return absl::NotFoundError(absl::StrCat(Sv(name), ": executable file not found in $PATH"));
}

absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         std::string_view stdin_data, absl::Duration timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("RunProcess: empty argument list");
  const std::string& program = argv[0];
  absl::StatusOr<std::string> path = FindExecutable(program);
  if (!path.ok()) return path.status();

  const absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;

  Fd in_read, in_write, out_read, out_write, err_read, err_write;
  for (auto [r, w] : {std::pair<Fd*, Fd*>{&in_read, &in_write}, {&out_read, &out_write},
                      {&err_read, &err_write}}) {
    if (absl::Status s = MakePipe(*r, *w); !s.ok()) return s;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);

  // The child starts with no blocked signals and SIGPIPE at its default, whatever the caller did.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty_set, default_set;
  sigemptyset(&empty_set);
  sigemptyset(&default_set);
  sigaddset(&default_set, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty_set);
  posix_spawnattr_setsigdefault(&attr, &default_set);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);

  pid_t pid = -1;
  int spawn_error = ::posix_spawn(&pid, path->c_str(), &actions, &attr, c_argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawn_error != 0) {
    std::string message = absl::StrCat(program, ": ", std::strerror(spawn_error));
    if (spawn_error == ENOENT) return absl::NotFoundError(message);
    if (spawn_error == EACCES) return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
  }
  in_read.Close();
  out_write.Close();
  err_write.Close();

  ProcessResult result;
  ScopedSigpipeBlock sigpipe_block;
  for (Fd* fd : {&in_write, &out_read, &err_read}) {
    ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
  }
  size_t written = 0;
  if (stdin_data.empty()) in_write.Close();

  auto kill_on_timeout = [&]() -> absl::Status {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {
    }
    return absl::DeadlineExceededError(
        absl::StrCat(program, ": timed out after ", absl::FormatDuration(timeout)));
  };

  char buffer[16384];
  while (in_write.open() || out_read.open() || err_read.open()) {
    struct pollfd fds[3];
    Fd* owners[3];
    nfds_t count = 0;
    if (in_write.open()) {
      fds[count] = {in_write.get(), POLLOUT, 0};
      owners[count++] = &in_write;
    }
    for (Fd* fd : {&out_read, &err_read}) {
      if (!fd->open()) continue;
      fds[count] = {fd->get(), POLLIN, 0};
      owners[count++] = fd;
    }
    int ready = ::poll(fds, count, PollTimeoutMs(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      int poll_errno = errno;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return absl::InternalError(absl::StrCat(program, ": poll: ", std::strerror(poll_errno)));
    }
    if (ready == 0 && absl::Now() >= deadline) return kill_on_timeout();

    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      Fd* fd = owners[i];
      if (fd == &in_write) {
        ssize_t n = ::write(fd->get(), stdin_data.data() + written, stdin_data.size() - written);
        if (n > 0) {
          written += static_cast<size_t>(n);
          if (written == stdin_data.size()) fd->Close();
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          // The program closed its input early (EPIPE) or it broke: stop feeding it.
          if (errno == EPIPE) sigpipe_block.NoteEpipe();
          fd->Close();
        }
        continue;
      }
      std::string& sink = fd == &out_read ? result.out : result.err;
      ssize_t n = ::read(fd->get(), buffer, sizeof(buffer));
      if (n > 0) {
        sink.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        fd->Close();
      }
    }
  }

  // Both output pipes reached end-of-file; the program is exiting or has closed them on purpose.
  absl::Duration nap = absl::Microseconds(100);
  while (true) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      result.exit_code = ExitCodeFromStatus(status);
      return result;
    }
    if (done < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat(program, ": waitpid: ", std::strerror(errno)));
    }
    if (absl::Now() >= deadline) return kill_on_timeout();
    absl::SleepFor(nap);
    nap = std::min(nap * 2, absl::Milliseconds(20));
  }
}

}  // namespace kim
