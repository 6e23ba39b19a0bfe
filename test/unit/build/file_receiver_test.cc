// The local-export receiver against hostile senders: symlinks planted to lead writes outside the
// destination, hard links to files outside it, and a file name that first held a symlink.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/build/context_walker.h"
#include "lib/build/file_receiver.h"

namespace kim::build {
namespace {

using fsutil::types::Packet;

Packet Stat(const std::string& path, uint32_t mode, const std::string& link = "") {
  Packet packet;
  packet.set_type(Packet::PACKET_STAT);
  packet.mutable_stat()->set_path(path);
  packet.mutable_stat()->set_mode(mode);
  packet.mutable_stat()->set_linkname(link);
  return packet;
}

Packet Data(uint32_t id, const std::string& data) {
  Packet packet;
  packet.set_type(Packet::PACKET_DATA);
  packet.set_id(id);
  packet.set_data(data);
  return packet;
}

Packet Of(Packet::PacketType type) {
  Packet packet;
  packet.set_type(type);
  return packet;
}

// Feeds `script` to ReceiveDirectory in order and returns its status.
absl::Status Receive(const std::string& dest, std::vector<Packet> script) {
  size_t next = 0;
  return ReceiveDirectory(
      dest,
      [&](Packet* packet) {
        if (next == script.size()) return false;
        *packet = script[next++];
        return true;
      },
      [](const Packet&) { return true; });
}

std::string Slurp(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

struct Dirs {
  std::string top, dest, outside;
  Dirs() {
    char name[] = "/tmp/kim-receiver-test-XXXXXX";
    top = mkdtemp(name);
    dest = top + "/dest";
    outside = top + "/outside";
    std::filesystem::create_directories(outside);
    std::ofstream(outside + "/secret") << "keep me";
  }
  ~Dirs() { std::filesystem::remove_all(top); }
};

constexpr uint32_t kFile = 0644;

TEST_CASE("file receiver: writes a tree it is sent", "[receiver]") {
  Dirs dirs;
  const absl::Status status = Receive(
      dirs.dest, {Stat("d", kGoModeDir | 0755), Stat("d/f", kFile), Stat("d/l", kGoModeSymlink | 0777, "f"),
                  Stat("d/h", kFile, "d/f"), Of(Packet::PACKET_STAT), Data(1, "hello"), Data(1, ""),
                  Of(Packet::PACKET_FIN)});
  INFO(status.message());
  REQUIRE(status.ok());
  CHECK(Slurp(dirs.dest + "/d/f") == "hello");
  CHECK(std::filesystem::read_symlink(dirs.dest + "/d/l") == "f");
  CHECK(Slurp(dirs.dest + "/d/h") == "hello");
}

TEST_CASE("file receiver: a symlinked parent never leads a write outside", "[receiver]") {
  Dirs dirs;
  const absl::Status status = Receive(
      dirs.dest, {Stat("link", kGoModeSymlink | 0777, dirs.outside), Stat("link/secret", kFile),
                  Of(Packet::PACKET_STAT), Data(1, "overwritten"), Data(1, ""),
                  Of(Packet::PACKET_FIN)});
  CHECK(absl::IsPermissionDenied(status));
  CHECK(std::string(status.message()).find("refusing link/secret: it leads outside") == 0);
  CHECK(Slurp(dirs.outside + "/secret") == "keep me");

  Dirs relative;
  const absl::Status dotdot = Receive(
      relative.dest, {Stat("up", kGoModeSymlink | 0777, "../outside"), Stat("up/new", kFile)});
  CHECK(absl::IsPermissionDenied(dotdot));
  CHECK_FALSE(std::filesystem::exists(relative.outside + "/new"));
}

TEST_CASE("file receiver: hard links may only point beneath the destination", "[receiver]") {
  Dirs dirs;
  const absl::Status direct = Receive(dirs.dest, {Stat("h", kFile, "../outside/secret")});
  CHECK(absl::IsInvalidArgument(direct));
  CHECK_FALSE(std::filesystem::exists(dirs.dest + "/h"));

  Dirs through_link;
  const absl::Status linked = Receive(
      through_link.dest,
      {Stat("l", kGoModeSymlink | 0777, through_link.outside), Stat("h", kFile, "l/secret")});
  CHECK(absl::IsPermissionDenied(linked));
  CHECK_FALSE(std::filesystem::exists(through_link.dest + "/h"));
  struct stat info {};
  REQUIRE(stat((through_link.outside + "/secret").c_str(), &info) == 0);
  CHECK(info.st_nlink == 1);
}

TEST_CASE("file receiver: a file replaces a symlink of its name, not what it points at",
          "[receiver]") {
  Dirs dirs;
  const absl::Status status = Receive(
      dirs.dest, {Stat("f", kGoModeSymlink | 0777, dirs.outside + "/secret"), Stat("f", kFile),
                  Of(Packet::PACKET_STAT), Data(1, "mine"), Data(1, ""), Of(Packet::PACKET_FIN)});
  INFO(status.message());
  REQUIRE(status.ok());
  CHECK(Slurp(dirs.dest + "/f") == "mine");
  CHECK_FALSE(std::filesystem::is_symlink(dirs.dest + "/f"));
  CHECK(Slurp(dirs.outside + "/secret") == "keep me");
}

TEST_CASE("file receiver: absolute and dot-dot paths are refused", "[receiver]") {
  Dirs dirs;
  CHECK(absl::IsInvalidArgument(Receive(dirs.dest, {Stat("../outside/x", kFile)})));
  CHECK(absl::IsInvalidArgument(Receive(dirs.dest, {Stat("/etc/x", kFile)})));
  CHECK_FALSE(std::filesystem::exists(dirs.outside + "/x"));
}

}  // namespace
}  // namespace kim::build
