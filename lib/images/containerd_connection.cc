// Opening the channel to containerd and addressing calls on it.
#include "lib/images/containerd_connection.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "containerd/services/version/v1/version.grpc.pb.h"

namespace kim {
namespace {

constexpr char kUnixScheme[] = "unix://";

constexpr absl::Duration kMaxReconnectBackoff = absl::Seconds(2);
// How long a call waits for a containerd that was unreachable to take a new connection.
constexpr absl::Duration kReviveWait = absl::Milliseconds(500);

std::string Hint() { return "(is containerd running? check --containerd-socket)"; }

std::chrono::system_clock::time_point Deadline(absl::Duration timeout) {
  return absl::ToChronoTime(absl::Now() + timeout);
}

}  // namespace

absl::StatusOr<std::shared_ptr<ContainerdConnection>> ContainerdConnection::Open(
    const ContainerdOptions& options) {
  if (options.socket.empty()) {
    return absl::InvalidArgumentError("no containerd socket given (--containerd-socket)");
  }
  std::string path = options.socket;
  if (path.starts_with(kUnixScheme)) path = path.substr(std::strlen(kUnixScheme));
  const std::string address = absl::StrCat(kUnixScheme, path);

  // gRPC would only report "failed to connect to all addresses" after retrying; say why now.
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    const int error = errno;
    const std::string why = error == ENOENT   ? "no such file"
                            : error == EACCES ? "permission denied"
                                              : std::strerror(error);
    return absl::UnavailableError(
        absl::StrCat("cannot reach containerd at ", address, ": ", why, " ", Hint()));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach containerd at ", address, ": not a socket ", Hint()));
  }

  grpc::ChannelArguments arguments;
  // Config blobs and manifests fit in 16 MiB; layers are streamed in containerd's chunks.
  arguments.SetMaxReceiveMessageSize(16 << 20);
  // containerd is local: once it is back after a restart, reconnect within a second or two,
  // not after gRPC's default backoff of up to two minutes.
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                   static_cast<int>(absl::ToInt64Milliseconds(kMaxReconnectBackoff)));
  auto channel =
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments);
  std::shared_ptr<ContainerdConnection> connection(
      new ContainerdConnection(options, address, channel));

  auto stub = containerd::services::version::v1::Version::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(Deadline(std::min(options.timeout, absl::Seconds(10))));
  containerd::services::version::v1::VersionResponse version;
  const grpc::Status status = stub->Version(&context, {}, &version);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach containerd at ", address, ": ",
                                               status.error_message(), " ", Hint()));
  }
  connection->version_ = version.version();
  return connection;
}

void ContainerdConnection::Revive() const {
  if (channel_->GetState(false) != GRPC_CHANNEL_TRANSIENT_FAILURE) return;
  // containerd went away and gRPC waits out its reconnect backoff (up to kMaxReconnectBackoff)
  // before it tries again; try now: a unix socket connects, or is refused, at once.
  grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
  channel_->WaitForConnected(absl::ToChronoTime(absl::Now() + kReviveWait));
}

std::unique_ptr<grpc::ClientContext> ContainerdConnection::NewLongContext(
    std::string_view lease) const {
  Revive();
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("containerd-namespace", options_.namespace_name);
  if (!lease.empty()) context->AddMetadata("containerd-lease", std::string(lease));
  return context;
}

std::unique_ptr<grpc::ClientContext> ContainerdConnection::NewContext(
    std::string_view lease) const {
  auto context = NewLongContext(lease);
  context->set_deadline(Deadline(options_.timeout));
  return context;
}

absl::Status FromGrpc(const grpc::Status& status, std::string_view what) {
  if (status.ok()) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = absl::StrCat(std::string(what), ": ", status.error_message());
  if (code == absl::StatusCode::kUnavailable) absl::StrAppend(&message, " ", Hint());
  return absl::Status(code, message);
}

}  // namespace kim
