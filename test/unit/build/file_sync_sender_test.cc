// The FileSync sender (lib/build/attachables.h) driven the way buildkitd's receiver drives it:
// STATs in walk order, REQ by id, DATA until an empty packet, FIN both ways; and a file that
// cannot be opened fails the transfer with its name instead of arriving empty.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "fsutil/types/fsutil.pb.h"
#include "lib/build/attachables.h"
#include "moby/filesync/v1/filesync.grpc.pb.h"
#include "test/support/session_harness.h"
#include "test/support/temp_dir.h"

namespace fs = std::filesystem;
using fsutil::types::Packet;

namespace {

// Receives every STAT (up to the empty one); returns the ids of regular files by path.
std::map<std::string, uint32_t> ReadStats(grpc::ClientReaderWriter<Packet, Packet>& stream) {
  std::map<std::string, uint32_t> ids;
  Packet packet;
  uint32_t ordinal = 0;
  while (stream.Read(&packet)) {
    REQUIRE(packet.type() == Packet::PACKET_STAT);
    if (packet.stat().path().empty()) break;
    if ((packet.stat().mode() & 0x80000000u) == 0) ids[packet.stat().path()] = ordinal;
    ++ordinal;
  }
  return ids;
}

Packet Request(uint32_t id) {
  Packet packet;
  packet.set_type(Packet::PACKET_REQ);
  packet.set_id(id);
  return packet;
}

// A DiffCopy of the "context" directory served from `dir`, opened as the daemon opens it.
struct Transfer {
  explicit Transfer(const std::string& dir)
      : session(kim::build::FileSyncMethods({{"context", dir}})) {
    REQUIRE(session.channel);
    stub = moby::filesync::v1::FileSync::NewStub(session.channel);
    client.AddMetadata("dir-name", "context");
    stream = stub->DiffCopy(&client);
  }
  kim::test::SessionHarness session;
  std::unique_ptr<moby::filesync::v1::FileSync::Stub> stub;
  grpc::ClientContext client;
  std::unique_ptr<grpc::ClientReaderWriter<Packet, Packet>> stream;
};

}  // namespace

TEST_CASE("FileSync sender: STATs, requested data, FIN", "[file_sync]") {
  kim::test::TempDir context;
  context.Write("a.txt", "alpha");
  context.Write("dir/b.bin", std::string(100000, 'b'));  // several chunks
  Transfer transfer(context.path());
  auto& stream = transfer.stream;
  std::map<std::string, uint32_t> ids = ReadStats(*stream);
  REQUIRE(ids.size() == 2);
  REQUIRE(stream->Write(Request(ids.at("dir/b.bin"))));
  REQUIRE(stream->Write(Request(ids.at("a.txt"))));
  std::map<uint32_t, std::string> data;
  int finished = 0;
  Packet packet;
  while (finished < 2 && stream->Read(&packet)) {
    REQUIRE(packet.type() == Packet::PACKET_DATA);
    if (packet.data().empty()) {
      ++finished;
    } else {
      data[packet.id()] += packet.data();
    }
  }
  CHECK(data[ids.at("a.txt")] == "alpha");
  CHECK(data[ids.at("dir/b.bin")] == std::string(100000, 'b'));
  Packet fin;
  fin.set_type(Packet::PACKET_FIN);
  REQUIRE(stream->Write(fin));
  REQUIRE(stream->Read(&packet));
  CHECK(packet.type() == Packet::PACKET_FIN);
  stream->WritesDone();
  CHECK(stream->Finish().ok());
}

TEST_CASE("FileSync sender: a file that cannot be opened fails the transfer", "[file_sync]") {
  kim::test::TempDir context;
  context.Write("a.txt", "alpha");
  context.Write("gone.txt", "here at walk time");
  Transfer transfer(context.path());
  auto& stream = transfer.stream;
  std::map<std::string, uint32_t> ids = ReadStats(*stream);
  REQUIRE(ids.size() == 2);
  fs::remove(context.path() + "/gone.txt");
  REQUIRE(stream->Write(Request(ids.at("gone.txt"))));
  Packet packet;
  bool saw_error = false;
  while (stream->Read(&packet)) {
    CHECK_FALSE((packet.type() == Packet::PACKET_DATA && packet.id() == ids.at("gone.txt")));
    if (packet.type() == Packet::PACKET_ERR) {
      saw_error = true;
      CHECK(packet.data() == "open gone.txt: No such file or directory");
      break;
    }
  }
  CHECK(saw_error);
  transfer.client.TryCancel();  // as buildkitd's receiver does once it has the error
  grpc::Status status = stream->Finish();
  CHECK_FALSE(status.ok());
}

TEST_CASE("FileSync sender: unknown directory names are refused", "[file_sync]") {
  kim::test::TempDir context;
  kim::test::SessionHarness session(kim::build::FileSyncMethods({{"context", context.path()}}));
  REQUIRE(session.channel);
  grpc::ClientContext client;
  client.AddMetadata("dir-name", "secrets");
  auto stream = moby::filesync::v1::FileSync::NewStub(session.channel)->DiffCopy(&client);
  Packet packet;
  CHECK_FALSE(stream->Read(&packet));
  grpc::Status status = stream->Finish();
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(status.error_message() == "no access allowed to dir \"secrets\"");
}
