// TestAgent: make-test-pki, kim-agent on port 0, the port read from its log.
#include "test/support/test_agent.h"

#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>

#include "kim/connect.h"
#include "test/support/peers.h"

namespace kim::test {

TestAgent::TestAgent(const std::string& containerd_socket, const std::string& shared_pki) {
  if (shared_pki.empty()) {
    char dir_template[] = "/tmp/kim-agent-pki-XXXXXX";
    pki = mkdtemp(dir_template);
    const auto made = Run({"/bin/bash", KIM_SOURCE_DIR "/test/support/make-test-pki", pki});
    REQUIRE(made.exit_code == 0);
  } else {
    pki = shared_pki;
    owns_pki = false;
  }
  daemon = std::make_unique<Daemon>(std::vector<std::string>{
      KIM_AGENT_BINARY, "--listen", "127.0.0.1:0", "--containerd-socket",
      containerd_socket.empty() ? PeerEnv("KIM_TEST_CONTAINERD_SOCKET") : containerd_socket,
      "--tlscacert", pki + "/ca.crt", "--tlscert",
      pki + "/server.crt", "--tlskey", pki + "/server.key"});
  const std::string line = daemon->WaitForLine("serving on port");
  INFO(daemon->err());
  REQUIRE(!line.empty());
  const size_t port = line.find("port ") + 5;
  address = "127.0.0.1:" + line.substr(port, line.find(' ', port) - port);
}

TestAgent::~TestAgent() {
  daemon->Stop(SIGTERM);
  if (owns_pki) Run({"/bin/rm", "-rf", pki});
}

std::unique_ptr<ImageService> TestAgent::Images() const {
  ConnectOptions options;
  options.agent_addr = address;
  options.tls = {.ca = ReadTextFile(pki + "/ca.crt"),
                 .cert = ReadTextFile(pki + "/client.crt"),
                 .key = ReadTextFile(pki + "/client.key")};
  auto service = ConnectImageService(options);
  INFO(service.status());
  REQUIRE(service.ok());
  return *std::move(service);
}

ProcessOutput TestAgent::Kim(std::vector<std::string> words, const std::string& client,
                             const std::string& input) const {
  std::vector<std::string> argv = {KIM_BINARY, "--agent-addr", address, "--tlscacert",
                                   pki + "/ca.crt"};
  if (!client.empty()) {
    argv.insert(argv.end(), {"--tlscert", pki + "/" + client + ".crt", "--tlskey",
                             pki + "/" + client + ".key"});
  }
  argv.insert(argv.end(), words.begin(), words.end());
  // An empty Docker config, so the user's own credentials never leak into the test.
  return Run(argv, input, {{"DOCKER_CONFIG", pki}, {"KIM_CONTAINERD_SOCKET", ""}});
}

std::unique_ptr<Daemon> TestAgent::KimInBackground(const std::vector<std::string>& words) const {
  std::vector<std::string> argv = {"/usr/bin/env", "-u", "KIM_CONTAINERD_SOCKET",
                                   "DOCKER_CONFIG=" + pki, KIM_BINARY, "--agent-addr", address,
                                   "--tlscacert", pki + "/ca.crt", "--tlscert", pki + "/client.crt",
                                   "--tlskey", pki + "/client.key"};
  argv.insert(argv.end(), words.begin(), words.end());
  return std::make_unique<Daemon>(argv);
}

}  // namespace kim::test
