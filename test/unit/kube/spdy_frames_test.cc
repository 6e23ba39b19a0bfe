// Tests for lib/kube/spdy_frames.h: the frames kim sends parse as SPDY/3 (their header blocks
// inflate with zlib, one stream across frames), and the reader splits any byte stream.
#include "lib/kube/spdy_frames.h"

#include <zlib.h>

#include <catch2/catch.hpp>

namespace kim::kube::spdy {
namespace {

uint32_t Read32(const std::string& bytes, size_t at) {
  return (uint32_t{static_cast<unsigned char>(bytes[at])} << 24) |
         (uint32_t{static_cast<unsigned char>(bytes[at + 1])} << 16) |
         (uint32_t{static_cast<unsigned char>(bytes[at + 2])} << 8) |
         static_cast<unsigned char>(bytes[at + 3]);
}

// Inflates `compressed` on `stream` with a sync flush, as a SPDY receiver does per frame.
std::string Inflate(z_stream& stream, const std::string& compressed) {
  std::string out(4096, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&stream, Z_SYNC_FLUSH);
  REQUIRE((rc == Z_OK || rc == Z_BUF_ERROR));
  CHECK(stream.avail_in == 0);  // every byte of the frame's block was used
  out.resize(out.size() - stream.avail_out);
  return out;
}

std::string NameValueBlock(const HeaderList& headers) {
  std::string block;
  auto put = [&block](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) block.push_back(static_cast<char>(v >> shift));
  };
  put(static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    put(static_cast<uint32_t>(name.size()));
    block += name;
    put(static_cast<uint32_t>(value.size()));
    block += value;
  }
  return block;
}

TEST_CASE("spdy: SYN_STREAM frames carry one zlib stream of name/value blocks", "[kube][spdy]") {
  FrameWriter writer;
  const HeaderList first = {{"streamtype", "error"}, {"port", "1233"}, {"requestid", "0"}};
  const HeaderList second = {{"streamtype", "data"}, {"port", "1233"}, {"requestid", "0"}};
  const std::string a = writer.SynStream(1, first);
  const std::string b = writer.SynStream(3, second, kFlagFin);
  for (const std::string* frame : {&a, &b}) {
    CHECK(static_cast<unsigned char>((*frame)[0]) == 0x80);  // control bit, version 3
    CHECK((*frame)[1] == 3);
    CHECK(((*frame)[2] << 8 | (*frame)[3]) == kSynStream);
    CHECK((Read32(*frame, 4) & kMaxFrameLength) == frame->size() - 8);
  }
  CHECK(Read32(a, 8) == 1);
  CHECK(Read32(b, 8) == 3);
  CHECK(static_cast<unsigned char>(b[4]) == kFlagFin);
  CHECK(Read32(a, 12) == 0);  // associated-to stream
  z_stream stream{};
  REQUIRE(inflateInit(&stream) == Z_OK);
  CHECK(Inflate(stream, a.substr(18)) == NameValueBlock(first));
  CHECK(Inflate(stream, b.substr(18)) == NameValueBlock(second));
  inflateEnd(&stream);
}

TEST_CASE("spdy: DATA, RST_STREAM and PING frames", "[kube][spdy]") {
  std::string data;
  FrameWriter::AppendDataHeader(data, 5, kFlagFin, 3);
  REQUIRE(data.size() == kDataHeaderSize);
  CHECK(Read32(data, 0) == 5);
  CHECK(Read32(data, 4) == ((uint32_t{kFlagFin} << 24) | 3));
  CHECK(FrameWriter::EmptyData(7, kFlagFin) == std::string("\0\0\0\x07\x01\0\0\0", 8));
  const std::string reset = FrameWriter::RstStream(9, kStatusCancel);
  CHECK(reset == std::string("\x80\x03\0\x03\0\0\0\x08\0\0\0\x09\0\0\0\x05", 16));
  CHECK(FrameWriter::Ping(2) == std::string("\x80\x03\0\x06\0\0\0\x04\0\0\0\x02", 12));
}

TEST_CASE("spdy: the reader splits frames whatever pieces they come in", "[kube][spdy]") {
  std::string stream;
  FrameWriter::AppendDataHeader(stream, 3, 0, 5);
  stream += "hello";
  stream += FrameWriter::Ping(4);
  stream += FrameWriter::RstStream(3, kStatusCancel);
  stream += FrameWriter::EmptyData(3, kFlagFin);
  stream += std::string("\x80\x03\0\x07\0\0\0\x08\0\0\0\x0b\0\0\0\0", 16);  // GOAWAY
  for (size_t piece : {size_t{1}, size_t{3}, stream.size()}) {
    FrameReader reader;
    std::vector<Frame> frames;
    for (size_t at = 0; at < stream.size(); at += piece) {
      REQUIRE(reader.Feed(std::string_view(stream).substr(at, piece),
                          [&frames](Frame& frame) { frames.push_back(frame); }).ok());
    }
    REQUIRE(frames.size() == 5);
    CHECK((!frames[0].control && frames[0].stream_id == 3 && frames[0].data == "hello"));
    CHECK((frames[1].control && frames[1].type == kPing && frames[1].value == 4));
    CHECK((frames[2].type == kRstStream && frames[2].stream_id == 3 &&
           frames[2].value == kStatusCancel));
    CHECK((!frames[3].control && frames[3].flags == kFlagFin && frames[3].data.empty()));
    CHECK((frames[4].type == kGoAway && frames[4].value == 11));
  }
}

TEST_CASE("spdy: bytes of another protocol are refused", "[kube][spdy]") {
  FrameReader reader;
  absl::Status status = reader.Feed(std::string_view("\x80\x02\0\x01\0\0\0\0", 8), [](Frame&) {});
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "SPDY version 2 (want 3)");
}

}  // namespace
}  // namespace kim::kube::spdy
