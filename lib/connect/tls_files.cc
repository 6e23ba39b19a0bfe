// --tlscacert/--tlscert/--tlskey from disk.
#include "lib/connect/tls_files.h"

#include <tuple>

#include "lib/core/files.h"

namespace kim {

absl::StatusOr<TlsPems> ReadTlsFiles(const ConnectOptions& options) {
  TlsPems pems;
  for (const auto& [path, flag, content] :
       {std::tuple{&options.tls_ca_cert, "--tlscacert", &pems.ca},
        std::tuple{&options.tls_cert, "--tlscert", &pems.cert},
        std::tuple{&options.tls_key, "--tlskey", &pems.key}}) {
    if (path->empty()) continue;
    auto read = ReadWholeFile(*path, flag);
    if (!read.ok()) return read.status();
    *content = *std::move(read);
  }
  return pems;
}

}  // namespace kim
