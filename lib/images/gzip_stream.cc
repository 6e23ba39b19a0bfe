// GzipInflater: zlib's inflate with gzip framing (windowBits 16 + 15), restarted for each member.
#include "lib/images/gzip_stream.h"

#include <zlib.h>

#include <string>

namespace kim {

struct GzipInflater::State {
  z_stream stream{};
  bool member_ended = false;  // the last member ended and no new one has begun
  std::string out = std::string(256 * 1024, '\0');
};

bool LooksGzipped(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

GzipInflater::GzipInflater(Sink sink) : state_(std::make_unique<State>()), sink_(std::move(sink)) {
  inflateInit2(&state_->stream, 16 + MAX_WBITS);
}

GzipInflater::~GzipInflater() { inflateEnd(&state_->stream); }

absl::Status GzipInflater::Feed(std::string_view bytes) {
  z_stream& z = state_->stream;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  while (z.avail_in > 0) {
    if (state_->member_ended) {
      inflateReset(&z);
      state_->member_ended = false;
    }
    z.next_out = reinterpret_cast<Bytef*>(state_->out.data());
    z.avail_out = static_cast<uInt>(state_->out.size());
    const int result = inflate(&z, Z_NO_FLUSH);
    if (result != Z_OK && result != Z_STREAM_END && result != Z_BUF_ERROR) {
      return absl::DataLossError(
          std::string("corrupt gzip data: ") + (z.msg != nullptr ? z.msg : "inflate failed"));
    }
    const size_t produced = state_->out.size() - z.avail_out;
    if (produced > 0) {
      if (absl::Status status = sink_(std::string_view(state_->out.data(), produced));
          !status.ok()) {
        return status;
      }
    }
    if (result == Z_STREAM_END) state_->member_ended = true;
    if (result == Z_BUF_ERROR && produced == 0) break;
  }
  return absl::OkStatus();
}

absl::Status GzipInflater::Finish() {
  // Drain what inflate still holds, then require the end of a member.
  z_stream& z = state_->stream;
  while (!state_->member_ended) {
    z.next_in = nullptr;
    z.avail_in = 0;
    z.next_out = reinterpret_cast<Bytef*>(state_->out.data());
    z.avail_out = static_cast<uInt>(state_->out.size());
    const int result = inflate(&z, Z_FINISH);
    const size_t produced = state_->out.size() - z.avail_out;
    if (produced > 0) {
      if (absl::Status status = sink_(std::string_view(state_->out.data(), produced));
          !status.ok()) {
        return status;
      }
    }
    if (result == Z_STREAM_END) {
      state_->member_ended = true;
    } else if (produced == 0) {
      return absl::DataLossError("truncated gzip data");
    }
  }
  return absl::OkStatus();
}

}  // namespace kim
