// --agent-addr: TLS files from disk, then the agent client.
#include "lib/connect/connect_agent.h"

#include "lib/connect/tls_files.h"
#include "lib/images/agent_client.h"

namespace kim {

absl::StatusOr<std::unique_ptr<ImageService>> ConnectAgent(const ConnectOptions& options) {
  auto pems = ReadTlsFiles(options);
  if (!pems.ok()) return pems.status();
  return NewAgentImageService(AgentClientOptions{
      .address = options.agent_addr, .ca_pem = pems->ca, .cert_pem = pems->cert,
      .key_pem = pems->key});
}

}  // namespace kim
