// Fuzz target for the fsutil packets a daemon sends to `-o type=local`: each frame of the input
// is one Packet (STAT, DATA, FIN, ERR...) handed to the receiver, which writes under a fresh
// temporary directory. Beyond "does not crash": nothing is written outside the destination (a
// file beside it stays as it was and nothing else appears there), and a transfer that succeeds
// has sent its FIN.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fsutil/types/fsutil.pb.h"
#include "lib/build/file_receiver.h"
#include "google/protobuf/stubs/logging.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;
namespace fs = std::filesystem;

namespace {

std::string ReadAll(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Strings with invalid UTF-8 are refused by protobuf, which logs each one: keep runs quiet.
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  std::vector<fsutil::types::Packet> packets;
  for (std::string_view frame : kim::fuzz::Frames(kim::fuzz::AsText(data, size))) {
    fsutil::types::Packet packet;
    if (packet.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) packets.push_back(packet);
  }
  char scratch[] = "/tmp/kim-fuzz-receive.XXXXXX";
  Require(mkdtemp(scratch) != nullptr, "mkdtemp");
  const fs::path root(scratch);
  std::ofstream(root / "beside") << "untouched";
  size_t next = 0;
  bool fin_sent = false;
  const absl::Status status = kim::build::ReceiveDirectory(
      (root / "dest").string(),
      [&](fsutil::types::Packet* packet) {
        if (next == packets.size()) return false;
        *packet = packets[next++];
        return true;
      },
      [&](const fsutil::types::Packet& packet) {
        if (packet.type() == fsutil::types::Packet::PACKET_FIN) fin_sent = true;
        return true;
      });
  if (status.ok()) Require(fin_sent, "a finished transfer sent FIN");
  Require(ReadAll(root / "beside") == "untouched", "the file beside the destination is intact");
  size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    ++entries;
    Require(entry.path().filename() == "beside" || entry.path().filename() == "dest",
            "nothing appears beside the destination");
  }
  Require(entries <= 2, "nothing appears beside the destination");
  // Directories may have been left without write or search permission: give them back first.
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none, error);
       it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) break;
    if (it->is_directory(error) && !it->is_symlink(error)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, error);
    }
  }
  fs::remove_all(root, error);
  Require(!error, "the scratch directory can be removed");
  return 0;
}
