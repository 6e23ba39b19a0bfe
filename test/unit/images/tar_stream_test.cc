// The streaming tar writer and reader, and the gzip inflater, on archives fed in pieces of every
// size; broken input gets the errors `kim load` reports.
#include <catch2/catch.hpp>

#include <zlib.h>

#include "lib/images/gzip_stream.h"
#include "lib/images/tar_stream.h"

namespace kim {
namespace {

// Records what the reader reports, as "name:size:data" per file.
struct Recorder : TarReader::Handler {
  std::vector<std::string> files;
  std::vector<std::string> links;
  std::string data;
  absl::Status OnEntry(const TarEntry& entry) override {
    if (entry.type == TarEntry::Type::kSymlink) links.push_back(entry.name + "->" + entry.link);
    if (entry.type == TarEntry::Type::kFile) files.push_back(entry.name + ":" + std::to_string(entry.size));
    data.clear();
    return absl::OkStatus();
  }
  absl::Status OnData(std::string_view piece) override {
    data.append(piece);
    return absl::OkStatus();
  }
  absl::Status OnEntryEnd() override {
    files.back() += ":" + data;
    return absl::OkStatus();
  }
};

std::string File(const std::string& name, const std::string& data) {
  return TarFileHeader(name, data.size()) + data + TarPadding(data.size());
}

TEST_CASE("tar: what the writer writes the reader reads, whatever the piece size", "[tar]") {
  const std::string long_name = "blobs/" + std::string(150, 'x') + "/layer.tar";
  const std::string archive = File("oci-layout", "{}") + TarDirectoryHeader("blobs/") +
                              File(long_name, std::string(1000, 'a')) + File("empty", "") +
                              TarTrailer();
  for (size_t piece : {1, 7, 511, 512, 513, 100000}) {
    INFO(piece);
    Recorder recorder;
    TarReader reader(&recorder);
    for (size_t at = 0; at < archive.size(); at += piece) {
      REQUIRE(reader.Feed(std::string_view(archive).substr(at, piece)).ok());
    }
    REQUIRE(reader.Finish().ok());
    REQUIRE(recorder.files.size() == 3);
    CHECK(recorder.files[0] == "oci-layout:2:{}");
    CHECK(recorder.files[1] == long_name + ":1000:" + std::string(1000, 'a'));
    CHECK(recorder.files[2] == "empty:0:");
  }
}

TEST_CASE("tar: not a tar, a corrupt header, a truncated archive", "[tar]") {
  Recorder recorder;
  TarReader text(&recorder);
  const std::string prose(1024, 'z');
  CHECK(text.Feed(prose).message() == "not a tar archive");

  TarReader short_input(&recorder);
  CHECK(short_input.Feed("hello").ok());
  CHECK(short_input.Finish().message() == "not a tar archive");

  std::string archive = File("a", "1234") + File("b", "5678") + TarTrailer();
  archive[512 * 2 + 10] ^= 1;  // inside b's header
  TarReader corrupt(&recorder);
  const absl::Status status = corrupt.Feed(archive);
  CHECK(absl::IsDataLoss(status));
  CHECK(status.message() == "the archive is corrupt: bad tar header after 1 entries");

  const std::string whole = File("a", std::string(2000, 'q')) + TarTrailer();
  TarReader truncated(&recorder);
  CHECK(truncated.Feed(whole.substr(0, 1200)).ok());
  CHECK(truncated.Finish().message() == "the archive is truncated");
}

std::string Gzip(const std::string& data) {
  std::string out(compressBound(data.size()) + 64, '\0');
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = data.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST_CASE("gzip: members in a row inflate to their concatenation and truncation is reported",
          "[gzip]") {
  const std::string first(300000, 'a'), second = "the second member";
  const std::string stream = Gzip(first) + Gzip(second);
  CHECK(LooksGzipped(stream));
  CHECK_FALSE(LooksGzipped("ustar"));
  std::string out;
  GzipInflater inflater([&](std::string_view piece) {
    out.append(piece);
    return absl::OkStatus();
  });
  for (size_t at = 0; at < stream.size(); at += 333) {
    REQUIRE(inflater.Feed(std::string_view(stream).substr(at, 333)).ok());
  }
  REQUIRE(inflater.Finish().ok());
  CHECK(out == first + second);

  GzipInflater cut([](std::string_view) { return absl::OkStatus(); });
  REQUIRE(cut.Feed(stream.substr(0, 100)).ok());
  CHECK(cut.Finish().message() == "truncated gzip data");

  GzipInflater garbage([](std::string_view) { return absl::OkStatus(); });
  std::string bad = Gzip(second);
  bad[12] ^= 0x55;
  absl::Status fed = garbage.Feed(bad);
  if (fed.ok()) fed = garbage.Finish();
  CHECK_FALSE(fed.ok());
}

}  // namespace
}  // namespace kim
