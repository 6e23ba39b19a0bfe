// The gRPC services a build client serves to buildkitd inside the session tunnel: FileSync (the
// sender of local directories), FileSend (exporter output written on the client), Auth (registry
// credentials from the Docker config), Secrets and Health.
#ifndef KIM_LIB_BUILD_ATTACHABLES_H_
#define KIM_LIB_BUILD_ATTACHABLES_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kim/build_service.h"

namespace kim::build {

// Local directories by name ("context", "dockerfile"), served to the daemon on request.
std::unique_ptr<grpc::Service> NewFileSyncService(std::map<std::string, std::string> dirs);

// Where exporter output goes on this machine (exporter id 0 only): a directory (type=local,
// received as an fsutil transfer) or a file (tar, oci, docker; "-" = stdout).
struct FileSendTarget {
  std::string directory;
  std::string file;
};
std::unique_ptr<grpc::Service> NewFileSendService(FileSendTarget target);

// Registry credentials for the daemon, looked up in the Docker config on each request.
std::unique_ptr<grpc::Service> NewAuthService();

// `--secret` values, read when the daemon asks for them.
std::unique_ptr<grpc::Service> NewSecretsService(std::vector<BuildSecret> secrets);

// `--ssh` agents (unix sockets), forwarded read-only: the build may list keys and sign, never
// add, remove or lock.
std::unique_ptr<grpc::Service> NewSshService(std::vector<BuildSsh> agents);

// grpc.health.v1.Health answering SERVING (buildkitd drops a session whose checks fail).
std::unique_ptr<grpc::Service> NewHealthService();

// The full method names each service serves, for the session's x-docker-expose-session-grpc-method.
std::vector<std::string> FileSyncMethods();
std::vector<std::string> FileSendMethods();
std::vector<std::string> AuthMethods();
std::vector<std::string> SecretsMethods();
std::vector<std::string> HealthMethods();
std::vector<std::string> SshMethods();

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_ATTACHABLES_H_
