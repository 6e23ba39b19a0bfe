// Socket and send-window helpers (socket_io.h).
#include "lib/kube/socket_io.h"

#include <sys/socket.h>

#include <cerrno>

namespace kim::kube {

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool SendWindowed(WebSocket& socket, std::string message, std::deque<std::future<bool>>& in_flight,
                  size_t window) {
  in_flight.push_back(socket.Send(std::move(message)));
  while (in_flight.size() >= window) {
    const bool sent = in_flight.front().get();
    in_flight.pop_front();
    if (!sent) return false;
  }
  return true;
}

}  // namespace kim::kube
