// The receiving side of an fsutil transfer: writes the directory the daemon sends (exporter
// type=local) under a destination directory on this machine.
#ifndef KIM_LIB_BUILD_FILE_RECEIVER_H_
#define KIM_LIB_BUILD_FILE_RECEIVER_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "fsutil/types/fsutil.pb.h"

namespace kim::build {

// Receives STAT packets, asks for every regular file's data (REQ), writes entries under `dest`
// (created if missing; paths escaping it are refused), then sends FIN and waits for the
// sender's FIN. `read` returns false at the end of the stream; `write` false when it is broken.
absl::Status ReceiveDirectory(const std::string& dest,
                              const std::function<bool(fsutil::types::Packet*)>& read,
                              const std::function<bool(const fsutil::types::Packet&)>& write);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_FILE_RECEIVER_H_
