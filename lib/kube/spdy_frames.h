// SPDY/3.1 framing, as much as Kubernetes port-forward uses (draft-mbelshe-httpbis-spdy-00,
// section 2): SYN_STREAM with a name/value header block, DATA, RST_STREAM and PING out; every
// frame in, split from a byte stream. Header blocks go out as zlib streams of stored
// (uncompressed) deflate blocks, which every zlib reader accepts without the SPDY dictionary;
// the header blocks that come in are not needed and are not decoded. Internal to lib/kube.
#ifndef KIM_LIB_KUBE_SPDY_FRAMES_H_
#define KIM_LIB_KUBE_SPDY_FRAMES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace kim::kube::spdy {

inline constexpr uint16_t kVersion = 3;
inline constexpr uint8_t kFlagFin = 0x01;
inline constexpr uint32_t kMaxFrameLength = (1u << 24) - 1;
inline constexpr size_t kDataHeaderSize = 8;

// Control frame types.
enum ControlType : uint16_t {
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

// RST_STREAM status codes used here.
inline constexpr uint32_t kStatusCancel = 5;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Encodes the frames one side of a session sends. The header blocks of a session form one
// zlib stream, so one writer serves one session, and its SYN_STREAM frames must be sent in the
// order they were made. Not thread-safe.
class FrameWriter {
 public:
  // SYN_STREAM opening `stream_id` (odd for a client) with `headers` (names lower-case).
  std::string SynStream(uint32_t stream_id, const HeaderList& headers, uint8_t flags = 0);

  // The 8-byte header of a DATA frame carrying `length` bytes on `stream_id`.
  static void AppendDataHeader(std::string& out, uint32_t stream_id, uint8_t flags,
                               uint32_t length);
  // A DATA frame with no data: with kFlagFin, the sender's half-close.
  static std::string EmptyData(uint32_t stream_id, uint8_t flags);
  static std::string RstStream(uint32_t stream_id, uint32_t status);
  static std::string Ping(uint32_t id);

 private:
  bool zlib_header_written_ = false;
};

// One frame read from the peer.
struct Frame {
  bool control = false;
  uint16_t type = 0;        // control frames: ControlType
  uint8_t flags = 0;
  uint32_t stream_id = 0;   // DATA, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE
  uint32_t value = 0;       // RST_STREAM status, PING id, GOAWAY last stream id
  std::string data;         // DATA: the bytes; control frames: the payload after the header
};

// Splits the bytes a peer sends into frames, whatever pieces they arrive in.
class FrameReader {
 public:
  // Appends `bytes` and calls `on_frame` for every frame now complete. InvalidArgument for
  // bytes that are not SPDY/3 (the session is then unusable).
  absl::Status Feed(std::string_view bytes, const std::function<void(Frame&)>& on_frame);

 private:
  std::string buffer_;
  size_t start_ = 0;  // where the unread bytes begin in buffer_
};

}  // namespace kim::kube::spdy

#endif  // KIM_LIB_KUBE_SPDY_FRAMES_H_
