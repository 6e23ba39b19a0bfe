// Small socket and send-window helpers shared by the port-forward relays. Internal to lib/kube.
#ifndef KIM_LIB_KUBE_SOCKET_IO_H_
#define KIM_LIB_KUBE_SOCKET_IO_H_

#include <cstddef>
#include <deque>
#include <future>
#include <string>

#include "lib/kube/websocket.h"

namespace kim::kube {

// Writes all of `data` to the socket `fd` (no SIGPIPE); false once the peer is gone.
bool WriteAll(int fd, const char* data, size_t size);

// Sends `message` on `socket`, keeping at most `window` messages handed over and not yet
// written (the oldest are waited for); false once a send failed.
bool SendWindowed(WebSocket& socket, std::string message, std::deque<std::future<bool>>& in_flight,
                  size_t window);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_SOCKET_IO_H_
