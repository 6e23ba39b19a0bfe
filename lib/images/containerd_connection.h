// The gRPC connection to one containerd and how every call on it is addressed: the namespace
// and the lease travel in gRPC metadata, each short call gets a deadline. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_CONNECTION_H_
#define KIM_LIB_IMAGES_CONTAINERD_CONNECTION_H_

#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kim {

// Where containerd is and how to talk to it.
struct ContainerdOptions {
  // containerd's gRPC socket: a path, or "unix://" + path.
  std::string socket;
  // The containerd namespace; "k8s.io" is the one the kubelet (CRI) uses.
  std::string namespace_name = "k8s.io";
  // The deadline of each short call (list, status, tag, remove, reads of small blobs). Pulls
  // are not bounded by it: they last as long as the registry needs.
  absl::Duration timeout = absl::Seconds(30);
};

// One channel to containerd. Thread-safe; shared by the services built on it.
class ContainerdConnection {
 public:
  // Connects to `options.socket` and asks containerd for its version, so that a wrong socket
  // fails here, plainly: Unavailable `cannot reach containerd at unix:///x.sock: no such file
  // (is containerd running? check --containerd-socket)`. InvalidArgument for an empty socket.
  static absl::StatusOr<std::shared_ptr<ContainerdConnection>> Open(
      const ContainerdOptions& options);

  // The channel, for building service stubs.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // "unix://" + the socket path.
  const std::string& address() const { return address_; }

  const ContainerdOptions& options() const { return options_; }

  // containerd's version as it reported it at Open, e.g. "1.6.20~ds1".
  const std::string& version() const { return version_; }

  // A context for one call in our namespace, with the short-call deadline, and in `lease` when
  // not empty.
  std::unique_ptr<grpc::ClientContext> NewContext(std::string_view lease = {}) const;

  // The same without deadline, for calls that last as long as their work (pulls, big reads).
  // Both first revive a channel that lost containerd (see Revive).
  std::unique_ptr<grpc::ClientContext> NewLongContext(std::string_view lease = {}) const;

 private:
  // When the channel is failing (containerd went away), tries to connect now instead of after
  // gRPC's backoff, waiting up to half a second: a restarted containerd serves the next call.
  void Revive() const;

  ContainerdConnection(ContainerdOptions options, std::string address,
                       std::shared_ptr<grpc::Channel> channel)
      : options_(std::move(options)), address_(std::move(address)),
        channel_(std::move(channel)) {}

  ContainerdOptions options_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string version_;
};

// `status` as an absl::Status with the same code and the message "<what>: <message>";
// Unavailable gets the hint to check that containerd runs.
absl::Status FromGrpc(const grpc::Status& status, std::string_view what);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_CONNECTION_H_
