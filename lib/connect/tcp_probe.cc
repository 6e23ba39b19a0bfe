// ProbeTcp: a non-blocking connect bounded by poll.
#include "lib/connect/tcp_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace kim {
namespace {

// One attempt at one resolved address; returns "" on success, else why not.
std::string TryConnect(const addrinfo& address, absl::Time deadline) {
  int fd = socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  address.ai_protocol);
  if (fd < 0) return strerror(errno);
  std::string error;
  if (connect(fd, address.ai_addr, address.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      error = strerror(errno);
    } else {
      pollfd waiting{.fd = fd, .events = POLLOUT, .revents = 0};
      const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
      const int ready = left > 0 ? poll(&waiting, 1, static_cast<int>(left)) : 0;
      int so_error = 0;
      socklen_t length = sizeof(so_error);
      if (ready == 0) {
        error = "timeout";
      } else if (ready < 0) {
        error = strerror(errno);
      } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length) != 0 || so_error != 0) {
        error = strerror(so_error != 0 ? so_error : errno);
      }
    }
  }
  close(fd);
  return error;
}

}  // namespace

absl::Status ProbeTcp(const std::string& host, int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc)));
  }
  std::string error = "no address";
  for (addrinfo* address = found; address != nullptr; address = address->ai_next) {
    error = TryConnect(*address, deadline);
    if (error.empty() || absl::Now() >= deadline) break;
  }
  freeaddrinfo(found);
  if (error.empty()) return absl::OkStatus();
  if (error == "timeout") error = absl::StrCat("no answer within ", absl::FormatDuration(timeout));
  return absl::UnavailableError(absl::StrCat(host, ":", port, ": ", absl::AsciiStrToLower(error)));
}

}  // namespace kim
