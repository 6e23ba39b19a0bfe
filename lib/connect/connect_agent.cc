// --agent-addr: TLS files from disk, then the agent client.
#include "lib/connect/connect_agent.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "lib/images/agent_client.h"

namespace kim {
namespace {

absl::Status ReadOptionalFile(const std::string& path, const char* flag, std::string* content) {
  if (path.empty()) return absl::OkStatus();
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", flag, " \"", path, "\""));
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  *content = buffer.str();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ImageService>> ConnectAgent(const ConnectOptions& options) {
  AgentClientOptions client{.address = options.agent_addr};
  for (const auto& [path, flag, content] :
       {std::tuple{options.tls_ca_cert, "--tlscacert", &client.ca_pem},
        std::tuple{options.tls_cert, "--tlscert", &client.cert_pem},
        std::tuple{options.tls_key, "--tlskey", &client.key_pem}}) {
    if (absl::Status status = ReadOptionalFile(path, flag, content); !status.ok()) return status;
  }
  return NewAgentImageService(client);
}

}  // namespace kim
