// SPDY/3.1 frame encoding and splitting (spdy_frames.h).
#include "lib/kube/spdy_frames.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace kim::kube::spdy {
namespace {

void Append32(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>(value >> 24));
  out.push_back(static_cast<char>(value >> 16));
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}

uint32_t Read32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

// A control frame: the common header (version, type, flags, length) and `payload`.
std::string ControlFrame(uint16_t type, uint8_t flags, const std::string& payload) {
  std::string out;
  out.reserve(8 + payload.size());
  out.push_back(static_cast<char>(0x80 | (kVersion >> 8)));
  out.push_back(static_cast<char>(kVersion & 0xff));
  out.push_back(static_cast<char>(type >> 8));
  out.push_back(static_cast<char>(type & 0xff));
  Append32(out, (uint32_t{flags} << 24) | static_cast<uint32_t>(payload.size()));
  out += payload;
  return out;
}

}  // namespace

std::string FrameWriter::SynStream(uint32_t stream_id, const HeaderList& headers, uint8_t flags) {
  std::string block;  // the name/value block (SPDY/3 section 2.6.10)
  Append32(block, static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    Append32(block, static_cast<uint32_t>(name.size()));
    block += name;
    Append32(block, static_cast<uint32_t>(value.size()));
    block += value;
  }
  std::string compressed;
  if (!zlib_header_written_) {  // CMF 0x78 (deflate, 32 KiB window), FLG 0x01: no dictionary
    compressed += "\x78\x01";
    zlib_header_written_ = true;
  }
  // Stored blocks (BFINAL 0, BTYPE 00, then LEN and its complement, little-endian).
  for (size_t at = 0; at < block.size(); at += 65535) {
    const size_t length = std::min<size_t>(65535, block.size() - at);
    compressed.push_back('\0');
    compressed.push_back(static_cast<char>(length & 0xff));
    compressed.push_back(static_cast<char>(length >> 8));
    compressed.push_back(static_cast<char>(~length & 0xff));
    compressed.push_back(static_cast<char>((~length >> 8) & 0xff));
    compressed.append(block, at, length);
  }
  // An empty stored block ends the header block, as zlib's sync flush does: Go's reader hands
  // out a stored block's bytes only when the next block begins.
  compressed.append("\0\0\0\xff\xff", 5);
  std::string payload;
  Append32(payload, stream_id & 0x7fffffff);
  Append32(payload, 0);            // associated-to stream id
  payload.push_back('\0');         // priority 0 (3 bits) and 5 unused bits
  payload.push_back('\0');         // slot
  payload += compressed;
  return ControlFrame(kSynStream, flags, payload);
}

void FrameWriter::AppendDataHeader(std::string& out, uint32_t stream_id, uint8_t flags,
                                   uint32_t length) {
  Append32(out, stream_id & 0x7fffffff);
  Append32(out, (uint32_t{flags} << 24) | (length & kMaxFrameLength));
}

std::string FrameWriter::EmptyData(uint32_t stream_id, uint8_t flags) {
  std::string out;
  AppendDataHeader(out, stream_id, flags, 0);
  return out;
}

std::string FrameWriter::RstStream(uint32_t stream_id, uint32_t status) {
  std::string payload;
  Append32(payload, stream_id & 0x7fffffff);
  Append32(payload, status);
  return ControlFrame(kRstStream, 0, payload);
}

std::string FrameWriter::Ping(uint32_t id) {
  std::string payload;
  Append32(payload, id);
  return ControlFrame(kPing, 0, payload);
}

absl::Status FrameReader::Feed(std::string_view bytes,
                               const std::function<void(Frame&)>& on_frame) {
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  buffer_.append(bytes);
  while (buffer_.size() - start_ >= 8) {
    const char* head = buffer_.data() + start_;
    const uint32_t word = Read32(head + 4);
    const uint32_t length = word & kMaxFrameLength;
    if (buffer_.size() - start_ < 8 + size_t{length}) break;
    Frame frame;
    frame.flags = static_cast<uint8_t>(word >> 24);
    frame.control = (static_cast<unsigned char>(head[0]) & 0x80) != 0;
    if (frame.control) {
      const uint16_t version = static_cast<uint16_t>(
          ((static_cast<unsigned char>(head[0]) & 0x7f) << 8) | static_cast<unsigned char>(head[1]));
      if (version != kVersion) {
        return absl::InvalidArgumentError(absl::StrCat("SPDY version ", version, " (want 3)"));
      }
      frame.type = static_cast<uint16_t>((static_cast<unsigned char>(head[2]) << 8) |
                                         static_cast<unsigned char>(head[3]));
      frame.data.assign(head + 8, length);
      const bool has_stream = frame.type == kSynStream || frame.type == kSynReply ||
                              frame.type == kRstStream || frame.type == kHeaders ||
                              frame.type == kWindowUpdate;
      if (has_stream && length >= 4) frame.stream_id = Read32(head + 8) & 0x7fffffff;
      if (frame.type == kRstStream && length >= 8) frame.value = Read32(head + 12);
      if (frame.type == kPing && length >= 4) frame.value = Read32(head + 8);
      if (frame.type == kGoAway && length >= 4) frame.value = Read32(head + 8) & 0x7fffffff;
    } else {
      frame.stream_id = Read32(head) & 0x7fffffff;
      frame.data.assign(head + 8, length);
    }
    start_ += 8 + length;
    on_frame(frame);
  }
  if (start_ > (1u << 20) && start_ * 2 > buffer_.size()) {  // keep the buffer from growing
    buffer_.erase(0, start_);
    start_ = 0;
  }
  return absl::OkStatus();
}

}  // namespace kim::kube::spdy
