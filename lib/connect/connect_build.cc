// --buildkit-addr: TLS files from disk, then the BuildKit client.
#include "lib/connect/connect_build.h"

#include <fstream>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "lib/build/buildkit_client.h"

namespace kim {
namespace {

absl::Status ReadTlsFile(const std::string& path, const char* flag, std::string* content) {
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

absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuild(const ConnectOptions& options) {
  build::BuildKitOptions client{.address = options.buildkit_addr};
  for (const auto& [path, flag, content] :
       {std::tuple{options.tls_ca_cert, "--tlscacert", &client.ca_pem},
        std::tuple{options.tls_cert, "--tlscert", &client.cert_pem},
        std::tuple{options.tls_key, "--tlskey", &client.key_pem}}) {
    if (absl::Status status = ReadTlsFile(path, flag, content); !status.ok()) return status;
  }
  return build::NewBuildKitService(client);
}

}  // namespace kim
