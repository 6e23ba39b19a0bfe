// The session services of one build, assembled from its options, context and plan.
#include "lib/build/session_methods.h"

#include <sys/stat.h>

#include <cstdlib>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/build/buildkit_client.h"
#include "lib/build/oci_layout.h"
#include "lib/build/ssh_keyring.h"

namespace kim::build {

absl::StatusOr<std::vector<SshForward>> SshForwards(const std::vector<BuildSsh>& ssh) {
  std::vector<SshForward> agents;
  for (const BuildSsh& forward : ssh) {
    std::vector<std::string> paths = forward.paths;
    if (paths.empty()) {
      const char* sock = getenv("SSH_AUTH_SOCK");
      if (sock == nullptr || *sock == '\0') {
        return absl::InvalidArgumentError(absl::StrCat(
            "--ssh ", forward.id, ": no agent socket or key given and SSH_AUTH_SOCK is not set"));
      }
      paths = {sock};
    }
    struct stat st {};
    if (paths.size() == 1 && stat(paths.front().c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      agents.push_back({.id = forward.id, .socket = paths.front(), .keys = nullptr});
      continue;
    }
    absl::StatusOr<SshKeyring> keys = SshKeyring::Load(paths);
    if (!keys.ok()) {
      return absl::Status(keys.status().code(),
                          absl::StrCat("--ssh ", forward.id, ": ", keys.status().message()));
    }
    agents.push_back({.id = forward.id, .socket = "",
                      .keys = std::make_shared<const SshKeyring>(*std::move(keys))});
  }
  return agents;
}

namespace {

// FileSend targets and the OCI layout's content store, for the plan's client-side exports.
std::vector<SessionMethod> OutputMethods(const SolvePlan& plan) {
  std::vector<SessionMethod> methods;
  std::map<int, FileSendTarget> client_outputs;
  for (size_t i = 0; i < plan.exports.size(); ++i) {
    const PlannedExport& planned = plan.exports[i];
    if (!planned.directory.empty() || !planned.file.empty()) {
      client_outputs[static_cast<int>(i)] = {.directory = planned.directory, .file = planned.file};
    }
    // The oci exporter writes a layout through the session content store it calls "export".
    if (!planned.layout_directory.empty()) {
      for (SessionMethod& method : ContentStoreMethods("export", planned.layout_directory)) {
        methods.push_back(std::move(method));
      }
    }
  }
  if (!client_outputs.empty()) {
    for (SessionMethod& method : FileSendMethods(std::move(client_outputs))) {
      methods.push_back(std::move(method));
    }
  }
  return methods;
}

}  // namespace

absl::StatusOr<std::vector<SessionMethod>> SessionMethodsFor(
    const BuildOptions& options, const LocalContext& context,
    std::shared_ptr<const CredentialStore> credentials, SolvePlan* plan) {
  std::vector<SessionMethod> methods;
  auto add = [&](std::vector<SessionMethod> more) {
    for (SessionMethod& method : more) methods.push_back(std::move(method));
  };
  std::map<std::string, std::string> local_dirs = plan->local_contexts;
  if (context.archive) {
    const std::string upload_id = NewIdentifier();
    plan->frontend_attrs["context"] = "http://buildkit-session/" + upload_id;
    add(UploadMethods(upload_id, options.context_archive));
  } else {
    local_dirs["context"] = context.context_dir;
    local_dirs["dockerfile"] = context.dockerfile_dir;
  }
  if (!local_dirs.empty()) add(FileSyncMethods(std::move(local_dirs)));
  add(HealthMethods());
  add(AuthMethods(std::move(credentials)));
  if (!options.secrets.empty()) add(SecretsMethods(options.secrets));
  if (!options.ssh.empty()) {
    auto agents = SshForwards(options.ssh);
    if (!agents.ok()) return agents.status();
    add(SshMethods(*std::move(agents)));
  }
  add(OutputMethods(*plan));
  return methods;
}

}  // namespace kim::build
