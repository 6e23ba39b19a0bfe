// The kim-agent gRPC server: health plus the kim agent API. Image operations answer
// UNIMPLEMENTED until the containerd image service is built; Version answers for real.
#include "kim/agent_server.h"

#include <fstream>
#include <sstream>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "kim/agent/v1/agent.grpc.pb.h"
#include "kim/version.h"

namespace kim {
namespace {

namespace v1 = ::kim::agent::v1;

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", what, " \"", path, "\""));
  }
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

// The Images service. Methods not overridden here answer UNIMPLEMENTED (the generated default).
class ImagesService final : public v1::Images::Service {
 public:
  grpc::Status Version(grpc::ServerContext*, const v1::VersionRequest*,
                       v1::VersionResponse* response) override {
    response->set_version(std::string(kim::Version()));
    response->set_git_commit(std::string(kim::GitCommit()));
    return grpc::Status::OK;
  }
};

class GrpcAgentServer final : public AgentServer {
 public:
  GrpcAgentServer(std::unique_ptr<ImagesService> service, std::unique_ptr<grpc::Server> server,
                  int port)
      : service_(std::move(service)), server_(std::move(server)), port_(port) {}

  int port() const override { return port_; }

  void Shutdown(absl::Duration grace) override {
    // Ends the health service's streams first; the server's own shutdown would wait for them.
    if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  }

  void Wait() override { server_->Wait(); }

 private:
  std::unique_ptr<ImagesService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const AgentServerOptions& options) {
  const int given = !options.tls_ca_cert.empty() + !options.tls_cert.empty() +
                    !options.tls_key.empty();
  if (given == 0) return grpc::InsecureServerCredentials();
  if (given != 3) {
    return absl::InvalidArgumentError(
        "mutual TLS needs all of --tlscacert, --tlscert and --tlskey");
  }
  auto ca = ReadFile(options.tls_ca_cert, "CA certificate");
  if (!ca.ok()) return ca.status();
  auto cert = ReadFile(options.tls_cert, "server certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(options.tls_key, "server key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = *ca;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AgentServer>> AgentServer::Start(
    const AgentServerOptions& options) {
  auto credentials = Credentials(options);
  if (!credentials.ok()) return credentials.status();
  grpc::EnableDefaultHealthCheckService(true);
  auto service = std::make_unique<ImagesService>();
  grpc::ServerBuilder builder;
  // Without this, gRPC sets SO_REUSEPORT and a second agent would share the port silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int port = 0;
  builder.AddListeningPort(options.listen_address, *credentials, &port);
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen_address,
                                               " (address in use or not local?)"));
  }
  return std::make_unique<GrpcAgentServer>(std::move(service), std::move(server), port);
}

}  // namespace kim
