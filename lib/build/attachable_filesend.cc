// FileSend.DiffCopy: exporter output written on this machine (type=local directories, tar/oci/
// docker files or stdout).
#include "lib/build/attachables.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "fsutil/types/fsutil.pb.h"
#include "lib/build/attachable_util.h"
#include "lib/build/file_receiver.h"
#include "moby/filesync/v1/filesync.pb.h"

namespace kim::build {
namespace {

using fsutil::types::Packet;

// FileSend.DiffCopy: exporter output arriving from the daemon, as a directory (fsutil packets)
// or as one file's bytes (BytesMessages).
absl::Status ReceiveOutput(SessionCall& call, const std::map<int, FileSendTarget>& targets) {
  const std::vector<std::string> ids = MetadataValues(call, "buildkit-attachable-exporter-id");
  const std::string id = ids.empty() ? "0" : ids.front();
  auto found = targets.end();
  for (auto it = targets.begin(); it != targets.end(); ++it) {
    if (std::to_string(it->first) == id) found = it;
  }
  if (found == targets.end()) return absl::NotFoundError(absl::StrCat("exporter ", id, " not found"));
  const FileSendTarget& target = found->second;
  if (!target.directory.empty()) {
    absl::Status status = ReceiveDirectory(
        target.directory, [&](Packet* packet) { return call.Read(packet); },
        [&](const Packet& packet) { return call.Write(packet); });
    if (!status.ok()) return absl::UnknownError(status.message());
    return absl::OkStatus();
  }
  int fd = 1;
  if (target.file != "-") {
    std::error_code ignored;  // open reports a parent that could not be made
    std::filesystem::create_directories(std::filesystem::path(target.file).parent_path(), ignored);
    fd = open(target.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return absl::UnknownError(absl::StrCat("open ", target.file, ": ", std::strerror(errno)));
  }
  moby::filesync::v1::BytesMessage bytes;
  std::string error;
  while (error.empty() && call.Read(&bytes)) {
    const std::string& data = bytes.data();
    for (size_t done = 0; done < data.size();) {
      const ssize_t n = write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = absl::StrCat("write ", target.file, ": ", std::strerror(errno));
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  if (fd != 1 && close(fd) != 0 && error.empty()) {
    error = absl::StrCat("close ", target.file, ": ", std::strerror(errno));
  }
  if (!error.empty()) return absl::UnknownError(error);
  return absl::OkStatus();
}

}  // namespace

std::vector<SessionMethod> FileSendMethods(std::map<int, FileSendTarget> targets) {
  return {{"/moby.filesync.v1.FileSend/DiffCopy", [targets = std::move(targets)](SessionCall& call) {
             return ReceiveOutput(call, targets);
           }}};
}

}  // namespace kim::build
