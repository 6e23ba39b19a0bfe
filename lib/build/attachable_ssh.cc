// SSH: `--ssh` agents forwarded read-only (a local agent socket relayed, or keys loaded from files
// answered by SshKeyring).
#include "lib/build/attachables.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/build/attachable_util.h"
#include "lib/build/ssh_wire.h"
#include "moby/sshforward/v1/ssh.pb.h"

namespace kim::build {
namespace {

const SshForward* FindAgent(const std::vector<SshForward>& agents, const std::string& id) {
  for (const SshForward& agent : agents) {
    if (agent.id == id) return &agent;
  }
  return nullptr;
}

// A connection to a local agent socket that relays the read-only requests: listing identities
// (11), signing (13) and extensions (27); anything else (adding, removing keys, locking) is
// answered with SSH_AGENT_FAILURE without reaching the agent.
class SocketAgent {
 public:
  ~SocketAgent() {
    if (fd_ >= 0) close(fd_);
  }
  absl::Status Connect(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      return absl::UnknownError(absl::StrCat("failed to connect to ", path, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  // The response body to one request body (both without their length prefix).
  absl::StatusOr<std::string> Answer(const std::string& body) {
    const unsigned char type = body.empty() ? 0 : static_cast<unsigned char>(body[0]);
    if (type != 11 && type != 13 && type != 27) return std::string(1, '\5');  // SSH_AGENT_FAILURE
    const std::string request = LengthPrefix(body.size()) + body;
    if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      return absl::UnavailableError("the SSH agent hung up");
    }
    char header[4];
    if (!ReadFull(header, 4)) return absl::UnavailableError("the SSH agent hung up");
    const auto* h = reinterpret_cast<const unsigned char*>(header);
    const uint32_t size = (uint32_t{h[0]} << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
    if (size > kMaxAgentMessage) return absl::DataLossError("oversized answer from the SSH agent");
    std::string response(size, '\0');
    if (!ReadFull(response.data(), size)) return absl::UnavailableError("the SSH agent hung up");
    return response;
  }

 private:
  bool ReadFull(char* data, size_t size) {
    for (size_t done = 0; done < size;) {
      const ssize_t n = read(fd_, data + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  static std::string LengthPrefix(size_t size) {
    return {static_cast<char>(size >> 24), static_cast<char>(size >> 16),
            static_cast<char>(size >> 8), static_cast<char>(size)};
  }

  int fd_ = -1;
};

// SSH.ForwardAgent: agent requests arrive as a byte stream of length-prefixed messages; each is
// answered by the local agent socket (read-only) or by the keys loaded from files.
absl::Status ForwardAgent(SessionCall& call, const std::vector<SshForward>& agents) {
  std::vector<std::string> ids = MetadataValues(call, "buildkit.ssh.id");
  const std::string id = ids.empty() || ids.front().empty() ? "default" : ids.front();
  const SshForward* agent = FindAgent(agents, id);
  if (agent == nullptr) return absl::UnknownError(absl::StrCat("unset ssh forward key ", id));
  SocketAgent socket_agent;
  if (!agent->keys) {
    if (absl::Status status = socket_agent.Connect(agent->socket); !status.ok()) return status;
  }
  std::string pending;
  moby::sshforward::v1::BytesMessage in, out;
  while (call.Read(&in)) {
    pending += in.data();
    std::string body;
    while (true) {
      absl::StatusOr<bool> taken = TakeAgentMessage(&pending, &body);
      if (!taken.ok()) return taken.status();
      if (!*taken) break;
      std::string response;
      if (agent->keys) {
        response = agent->keys->Handle(body);
      } else {
        absl::StatusOr<std::string> answer = socket_agent.Answer(body);
        if (!answer.ok()) return answer.status();
        response = *std::move(answer);
      }
      const size_t size = response.size();
      out.set_data(absl::StrCat(std::string{static_cast<char>(size >> 24), static_cast<char>(size >> 16),
                                            static_cast<char>(size >> 8), static_cast<char>(size)},
                                response));
      if (!call.Write(out)) return absl::CancelledError("ssh forwarding cancelled");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<SessionMethod> SshMethods(std::vector<SshForward> agents) {
  using moby::sshforward::v1::CheckAgentRequest;
  using moby::sshforward::v1::CheckAgentResponse;
  auto shared = std::make_shared<const std::vector<SshForward>>(std::move(agents));
  return {Unary<CheckAgentRequest, CheckAgentResponse>(
              "/moby.sshforward.v1.SSH/CheckAgent",
              [shared](SessionCall&, const CheckAgentRequest& request, CheckAgentResponse*) {
                if (FindAgent(*shared, request.id().empty() ? "default" : request.id()) == nullptr) {
                  return absl::UnknownError(absl::StrCat("unset ssh forward key ", request.id()));
                }
                return absl::OkStatus();
              }),
          {"/moby.sshforward.v1.SSH/ForwardAgent",
           [shared](SessionCall& call) { return ForwardAgent(call, *shared); }}};
}

}  // namespace kim::build
