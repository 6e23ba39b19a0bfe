// Kubernetes discovery for Connect.
#include "lib/connect/connect_kube.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "kim/log.h"
#include "lib/kube/cluster_credentials.h"

namespace kim {

absl::StatusOr<std::shared_ptr<kube::Client>> ConnectKube(const ConnectOptions& options) {
  // The CLI fills --kubeconfig from $KUBECONFIG when the flag is absent; a value that is the
  // variable's gets the variable's rules (files that do not exist are skipped, like client-go).
  std::string explicit_paths = options.kubeconfig;
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && explicit_paths == env) {
    explicit_paths.clear();
  }
  auto config = kube::LoadRestConfig(kube::LoadOptionsFromEnvironment(explicit_paths,
                                                                      options.context));
  if (!config.ok()) return config.status();
  auto client = kube::Client::New(*config);
  if (!client.ok()) return client.status();
  return std::shared_ptr<kube::Client>(std::move(*client));
}

DockerConfig ClusterCredentials(kube::Client& client, const std::string& ns) {
  auto stored = kube::ReadClusterCredentials(client, ns);
  if (stored.ok()) return *std::move(stored);
  LogDebug(0, absl::StrCat("not using the registry credentials stored in the cluster: ",
                           stored.status().message()));
  return DockerConfig();
}

absl::StatusOr<ClusterBuilder> DiscoverBuilder(const ConnectOptions& options) {
  auto client = ConnectKube(options);
  if (!client.ok()) return client.status();
  auto endpoint = kube::DiscoverBuilder(**client, options.namespace_name);
  if (!endpoint.ok()) return endpoint.status();
  return ClusterBuilder{.endpoint = *std::move(endpoint),
                        .credentials = ClusterCredentials(**client, options.namespace_name)};
}

TlsFiles::~TlsFiles() {
  if (dir.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

absl::StatusOr<TlsFiles> WriteTlsFiles(const kube::BuilderEndpoint& builder) {
  std::string templ = (std::filesystem::temp_directory_path() / "kim-private-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a private temporary directory: ",
                                            strerror(errno)));
  }
  TlsFiles files(templ);
  for (const auto& [name, content] : {std::pair{"ca.pem", &builder.ca_pem},
                                      std::pair{"cert.pem", &builder.cert_pem},
                                      std::pair{"key.pem", &builder.key_pem}}) {
    const std::string path = absl::StrCat(files.dir, "/", name);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, content->data(), content->size()) !=
                      static_cast<ssize_t>(content->size())) {
      if (fd >= 0) close(fd);
      return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
    }
    close(fd);
  }
  return files;
}

}  // namespace kim
