// The gRPC methods a build client serves to buildkitd inside the session (see SessionServer),
// one file each (attachable_<service>.cc): FileSync (the sender of local directories), FileSend
// (exporter output written on the client), Auth (registry credentials), Secrets, SSH agent
// forwarding, Upload (a context archive) and Health. Each handler runs on its own thread.
#ifndef KIM_LIB_BUILD_ATTACHABLES_H_
#define KIM_LIB_BUILD_ATTACHABLES_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/build_service.h"
#include "kim/credentials.h"
#include "lib/build/session_server.h"
#include "lib/build/ssh_keyring.h"

namespace kim::build {

// Local directories by name ("context", "dockerfile"), served to the daemon on request.
std::vector<SessionMethod> FileSyncMethods(std::map<std::string, std::string> dirs);

// Where one exporter's output goes on this machine: a directory (type=local, received as an
// fsutil transfer) or a file (tar, oci, docker; "-" = stdout).
struct FileSendTarget {
  std::string directory;
  std::string file;
};
// Exporter output, by exporter id (the exporter's index in the solve request).
std::vector<SessionMethod> FileSendMethods(std::map<int, FileSendTarget> targets);

// Registry credentials for the daemon, looked up in `credentials` on each request (null: the
// user's Docker config); anonymous when there are none or the lookup fails.
std::vector<SessionMethod> AuthMethods(std::shared_ptr<const CredentialStore> credentials);

// `--secret` values, read when the daemon asks for them.
std::vector<SessionMethod> SecretsMethods(std::vector<BuildSecret> secrets);

// One `--ssh` id served to the build: a local agent socket, or keys loaded from files.
struct SshForward {
  std::string id;
  std::string socket;                      // the agent socket to relay, when `keys` is null
  std::shared_ptr<const SshKeyring> keys;  // or the keys that answer themselves
};

// `--ssh` agents, served read-only: the build may list keys and sign, never add, remove or lock.
std::vector<SessionMethod> SshMethods(std::vector<SshForward> agents);

// moby.upload.v1.Upload: the bytes behind http://buildkit-session/<id>, from `read` (next chunk;
// false at the end), served once (a context archive from stdin).
std::vector<SessionMethod> UploadMethods(
    std::string id, std::function<absl::StatusOr<bool>(std::string* chunk)> read);

// grpc.health.v1.Health answering SERVING (buildkitd drops a session whose checks fail).
std::vector<SessionMethod> HealthMethods();

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_ATTACHABLES_H_
