// The TLS files the global flags name (--tlscacert, --tlscert, --tlskey), read for a client.
#ifndef KIM_LIB_CONNECT_TLS_FILES_H_
#define KIM_LIB_CONNECT_TLS_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "kim/connect.h"

namespace kim {

// PEM contents; a field is empty when its flag was not given.
struct TlsPems {
  std::string ca;
  std::string cert;
  std::string key;
};

// Reads the files options.tls_* name. InvalidArgument names the flag and file that failed.
absl::StatusOr<TlsPems> ReadTlsFiles(const ConnectOptions& options);

}  // namespace kim

#endif  // KIM_LIB_CONNECT_TLS_FILES_H_
