// GzipDeflater: zlib's deflate with gzip framing (windowBits 16 + 15) and a bare header.
#include "lib/images/gzip_deflater.h"

#include <zlib.h>

#include <string>

namespace kim {

struct GzipDeflater::State {
  z_stream stream{};
  bool ready = false;
  std::string out = std::string(256 * 1024, '\0');
};

GzipDeflater::GzipDeflater(Sink sink, int level)
    : state_(std::make_unique<State>()), sink_(std::move(sink)) {
  state_->ready = deflateInit2(&state_->stream, level < 0 || level > 9 ? Z_DEFAULT_COMPRESSION : level,
                               Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipDeflater::~GzipDeflater() {
  if (state_->ready) deflateEnd(&state_->stream);
}

absl::Status GzipDeflater::Feed(std::string_view bytes) {
  if (bytes.empty()) return absl::OkStatus();
  return Run(bytes, Z_NO_FLUSH);
}

absl::Status GzipDeflater::Finish() { return Run({}, Z_FINISH); }

absl::Status GzipDeflater::Run(std::string_view bytes, int flush) {
  if (!state_->ready) return absl::InternalError("zlib could not start a gzip stream");
  z_stream& z = state_->stream;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(state_->out.data());
    z.avail_out = static_cast<uInt>(state_->out.size());
    const int result = deflate(&z, flush);
    if (result == Z_STREAM_ERROR) return absl::InternalError("zlib's deflate failed");
    const size_t produced = state_->out.size() - z.avail_out;
    if (produced > 0) {
      if (absl::Status status = sink_(std::string_view(state_->out.data(), produced));
          !status.ok()) {
        return status;
      }
    }
    if (flush == Z_FINISH ? result == Z_STREAM_END : (z.avail_in == 0 && z.avail_out > 0)) break;
  }
  return absl::OkStatus();
}

}  // namespace kim
