// fork/exec with three pipes, drained with poll so that large outputs cannot deadlock.
#include "test/support/run_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

namespace kim::test {

ProcessOutput Run(const std::vector<std::string>& argv, const std::string& input,
                  const std::map<std::string, std::string>& env, const std::string& arg0) {
  int in[2], out[2], err[2];
  if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    for (const auto& [name, value] : env) {
      if (value.empty()) {
        unsetenv(name.c_str());
      } else {
        setenv(name.c_str(), value.c_str(), 1);
      }
    }
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    if (!arg0.empty()) args[0] = const_cast<char*>(arg0.c_str());
    args.push_back(nullptr);
    execv(argv[0].c_str(), args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  if (input.empty()) {
    close(in[1]);
    in[1] = -1;
  }
  ProcessOutput result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
    poll(fds, in[1] >= 0 ? 3 : 2, 200);
    char buffer[65536];
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      const ssize_t n = read(out[0], buffer, sizeof buffer);
      if (n > 0) result.out.append(buffer, n); else out_open = false;
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      const ssize_t n = read(err[0], buffer, sizeof buffer);
      if (n > 0) result.err.append(buffer, n); else err_open = false;
    }
    if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR))) {
      const ssize_t n = write(in[1], input.data() + written, input.size() - written);
      if (n > 0) written += n;
      if (n <= 0 || written == input.size()) {
        close(in[1]);
        in[1] = -1;
      }
    }
  }
  if (in[1] >= 0) close(in[1]);
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace kim::test

namespace kim::test {

Daemon::Daemon(const std::vector<std::string>& argv) {
  int err[2];
  if (pipe(err) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    const int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(err[1], 2);
    close(err[0]);
    close(err[1]);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(argv[0].c_str(), args.data());
    _exit(127);
  }
  close(err[1]);
  err_fd_ = err[0];
}

Daemon::~Daemon() {
  if (pid_ > 0) Stop(SIGKILL, 5);
  if (err_fd_ >= 0) close(err_fd_);
}

std::string Daemon::WaitForLine(const std::string& text, int seconds, size_t from) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  size_t scanned = from;
  while (std::chrono::steady_clock::now() < deadline) {
    size_t newline;
    while ((newline = err_.find('\n', scanned)) != std::string::npos) {
      std::string line = err_.substr(scanned, newline - scanned);
      scanned = newline + 1;
      if (line.find(text) != std::string::npos) return line;
    }
    pollfd fd = {err_fd_, POLLIN, 0};
    if (poll(&fd, 1, 100) > 0) {
      char buffer[4096];
      const ssize_t n = read(err_fd_, buffer, sizeof buffer);
      if (n <= 0) return "";
      err_.append(buffer, n);
    }
  }
  return "";
}

int Daemon::Stop(int signal, int seconds) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      char buffer[4096];
      ssize_t n;
      while ((n = read(err_fd_, buffer, sizeof buffer)) > 0) err_.append(buffer, n);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    usleep(20000);
  }
  return -1;
}

}  // namespace kim::test
