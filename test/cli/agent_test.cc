// kim-agent as a process: flags, health, the agent API, mutual TLS, clean shutdown on signals.
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "kim/agent/v1/agent.grpc.pb.h"
#include "kim/version.h"
#include "test/support/run_process.h"

using kim::test::Daemon;
using kim::test::Run;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

// Starts kim-agent on a free loopback port and returns the port (0 on failure).
int StartAgent(Daemon& agent) {
  const std::string line = agent.WaitForLine("serving on port");
  INFO("agent stderr: " << agent.err());
  REQUIRE(!line.empty());
  return std::stoi(line.substr(line.find("port ") + 5));
}

std::string MakePki() {
  char dir_template[] = "/tmp/kim-pki-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const auto result = Run({"/bin/bash", KIM_SOURCE_DIR "/test/support/make-test-pki", dir});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return dir;
}

std::shared_ptr<grpc::Channel> TlsChannel(int port, const std::string& pki,
                                          const std::string& client) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(pki + "/ca.crt");
  if (!client.empty()) {
    ssl.pem_cert_chain = ReadFile(pki + "/" + client + ".crt");
    ssl.pem_private_key = ReadFile(pki + "/" + client + ".key");
  }
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(ssl));
}

grpc::Status Check(const std::shared_ptr<grpc::Channel>& channel,
                   grpc::health::v1::HealthCheckResponse* response) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return stub->Check(&context, {}, response);
}

}  // namespace

TEST_CASE("kim-agent --help and --version", "[agent]") {
  const auto help = Run({KIM_AGENT_BINARY, "--help"});
  CHECK(help.exit_code == 0);
  for (const char* flag : {"--listen", "--containerd-socket", "--tlscacert", "--tlscert",
                           "--tlskey"}) {
    CHECK(help.out.find(flag) != std::string::npos);
  }
  const auto version = Run({KIM_AGENT_BINARY, "--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.find(std::string(kim::GitCommit())) != std::string::npos);
}

TEST_CASE("kim-agent refuses bad flags with exit 2", "[agent]") {
  const auto bogus = Run({KIM_AGENT_BINARY, "--bogus"});
  CHECK(bogus.exit_code == 2);
  CHECK(bogus.err.find("bogus") != std::string::npos);
  const auto extra = Run({KIM_AGENT_BINARY, "extra-arg"});
  CHECK(extra.exit_code == 2);
  const auto partial_tls = Run({KIM_AGENT_BINARY, "--listen", "127.0.0.1:0", "--tlscert", "x"});
  CHECK(partial_tls.exit_code == 1);
  CHECK(partial_tls.err.find("needs all of --tlscacert, --tlscert and --tlskey") !=
        std::string::npos);
  const auto missing = Run({KIM_AGENT_BINARY, "--listen", "127.0.0.1:0", "--tlscacert", "/no/ca",
                            "--tlscert", "/no/cert", "--tlskey", "/no/key"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("cannot read CA certificate \"/no/ca\"") != std::string::npos);
  // Plaintext only when asked for: otherwise anyone reaching the port drives containerd.
  const auto plaintext = Run({KIM_AGENT_BINARY, "--listen", "127.0.0.1:0"});
  CHECK(plaintext.exit_code == 1);
  CHECK(plaintext.err.find("refusing to serve plaintext: give --tlscacert, --tlscert and "
                           "--tlskey (mutual TLS), or --insecure") != std::string::npos);
}

TEST_CASE("kim-agent serves health and Version in plaintext, stops on SIGTERM", "[agent]") {
  Daemon agent({KIM_AGENT_BINARY, "--listen", "127.0.0.1:0", "--insecure", "--containerd-socket",
                "/nonexistent/containerd.sock"});
  const int port = StartAgent(agent);
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());

  grpc::health::v1::HealthCheckResponse health;
  REQUIRE(Check(channel, &health).ok());
  CHECK(health.status() == grpc::health::v1::HealthCheckResponse::SERVING);

  auto images = kim::agent::v1::Images::NewStub(channel);
  {
    grpc::ClientContext context;
    kim::agent::v1::VersionResponse version;
    REQUIRE(images->Version(&context, {}, &version).ok());
    CHECK(version.version() == kim::Version());
    CHECK(version.git_commit() == kim::GitCommit());
  }
  {
    // No containerd at the default socket here: image calls say so, and the agent stays up.
    grpc::ClientContext context;
    kim::agent::v1::ListResponse list;
    const grpc::Status status = images->List(&context, {}, &list);
    CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
    CHECK(status.error_message().find("cannot reach containerd at unix:///nonexistent/") !=
          std::string::npos);
  }
  // Like a CLI process that has exited: the connection is closed before the agent stops.
  images.reset();
  channel.reset();
  const auto stop_started = std::chrono::steady_clock::now();
  CHECK(agent.Stop(SIGTERM) == 0);
  CHECK(std::chrono::steady_clock::now() - stop_started < std::chrono::seconds(2));
  CHECK(agent.err().find("received SIGTERM, shutting down") != std::string::npos);
}

TEST_CASE("kim-agent stops cleanly on SIGINT", "[agent]") {
  Daemon agent({KIM_AGENT_BINARY, "--listen", "127.0.0.1:0", "--insecure"});
  StartAgent(agent);
  CHECK(agent.Stop(SIGINT) == 0);
}

TEST_CASE("kim-agent with mTLS accepts only clients of its CA", "[agent][tls]") {
  const std::string pki = MakePki();
  Daemon agent({KIM_AGENT_BINARY, "--listen", "127.0.0.1:0", "--tlscacert", pki + "/ca.crt",
                "--tlscert", pki + "/server.crt", "--tlskey", pki + "/server.key"});
  const int port = StartAgent(agent);
  CHECK(agent.err().find("(mutual TLS)") != std::string::npos);

  grpc::health::v1::HealthCheckResponse health;
  CHECK(Check(TlsChannel(port, pki, "client"), &health).ok());
  CHECK(health.status() == grpc::health::v1::HealthCheckResponse::SERVING);
  // No client certificate, or one from another CA: refused.
  CHECK_FALSE(Check(TlsChannel(port, pki, ""), &health).ok());
  CHECK_FALSE(Check(TlsChannel(port, pki, "other-client"), &health).ok());
  // Plaintext to a TLS port: refused.
  auto plain =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  CHECK_FALSE(Check(plain, &health).ok());
  CHECK(agent.Stop(SIGTERM) == 0);
  Run({"/bin/rm", "-rf", pki});
}

TEST_CASE("kim-agent reports an address it cannot bind", "[agent]") {
  Daemon first({KIM_AGENT_BINARY, "--listen", "127.0.0.1:0", "--insecure"});
  const int port = StartAgent(first);
  const auto second =
      Run({KIM_AGENT_BINARY, "--listen", "127.0.0.1:" + std::to_string(port), "--insecure"});
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("cannot listen on 127.0.0.1:" + std::to_string(port)) !=
        std::string::npos);
}
