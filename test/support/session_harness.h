// A SessionServer driven by a real gRPC C++ client: the server runs on one end of a socketpair
// and a gRPC channel on the other, as buildkitd would drive it through the Session stream.
#ifndef KIM_TEST_SUPPORT_SESSION_HARNESS_H_
#define KIM_TEST_SUPPORT_SESSION_HARNESS_H_

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>

#include "lib/build/session_server.h"

namespace kim::test {

// One end of a socketpair as the server's byte stream.
class SocketByteStream final : public kim::build::SessionByteStream {
 public:
  explicit SocketByteStream(int fd) : fd_(fd) {}
  ~SocketByteStream() override { close(fd_); }
  bool Read(std::string* bytes) override {
    bytes->resize(64 * 1024);
    while (true) {
      const ssize_t n = read(fd_, bytes->data(), bytes->size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes->resize(static_cast<size_t>(n));
      return true;
    }
  }
  bool Write(std::string bytes) override {
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  void CloseWrite() override { shutdown(fd_, SHUT_WR); }
  void Abort() override { shutdown(fd_, SHUT_RDWR); }

 private:
  const int fd_;
};

// A started server serving `methods`, and a channel to it. Returns null members if the
// socketpair cannot be made (the caller REQUIREs them).
struct SessionHarness {
  explicit SessionHarness(std::vector<kim::build::SessionMethod> methods) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return;
    stream = std::make_unique<SocketByteStream>(fds[0]);
    server = std::make_unique<kim::build::SessionServer>(stream.get(), std::move(methods));
    server->Start();
    channel = grpc::CreateInsecureChannelFromFd("session", fds[1]);
  }
  // Declaration order matters: the channel goes first, so the server sees the client hang up.
  std::unique_ptr<SocketByteStream> stream;
  std::unique_ptr<kim::build::SessionServer> server;
  std::shared_ptr<grpc::Channel> channel;
};

}  // namespace kim::test

#endif  // KIM_TEST_SUPPORT_SESSION_HARNESS_H_
