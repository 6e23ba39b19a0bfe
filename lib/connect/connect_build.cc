// --buildkit-addr: TLS files from disk, then the BuildKit client.
#include "lib/connect/connect_build.h"

#include "lib/build/buildkit_client.h"
#include "lib/connect/tls_files.h"

namespace kim {

absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuild(
    const ConnectOptions& options, const std::string& unreachable_hint,
    std::shared_ptr<const CredentialStore> credentials) {
  auto pems = ReadTlsFiles(options);
  if (!pems.ok()) return pems.status();
  build::BuildKitOptions client{.address = options.buildkit_addr};
  client.ca_pem = pems->ca;
  client.cert_pem = pems->cert;
  client.key_pem = pems->key;
  client.unreachable_hint = unreachable_hint;
  client.credentials = std::move(credentials);
  return build::NewBuildKitService(client);
}

}  // namespace kim
