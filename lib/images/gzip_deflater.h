// Streaming gzip compression with zlib, for layers that leave the node compressed (kim push of an
// image built uncompressed). Internal.
#ifndef KIM_LIB_IMAGES_GZIP_DEFLATER_H_
#define KIM_LIB_IMAGES_GZIP_DEFLATER_H_

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/status.h"

namespace kim {

// Compresses bytes pushed to it in pieces into one gzip member. Deterministic: the same input
// and level give the same bytes (no name or time in the header), so a layer compressed twice
// has one digest. Not thread-safe.
class GzipDeflater {
 public:
  // Receives the compressed bytes in order.
  using Sink = std::function<absl::Status(std::string_view)>;

  // `level` is zlib's, 0-9; -1 is its default (6), what Docker's push uses too.
  GzipDeflater(Sink sink, int level = -1);
  ~GzipDeflater();
  GzipDeflater(const GzipDeflater&) = delete;
  GzipDeflater& operator=(const GzipDeflater&) = delete;

  // Compresses `bytes` into the sink.
  absl::Status Feed(std::string_view bytes);

  // Ends the member (flushes what zlib holds and writes the trailer).
  absl::Status Finish();

 private:
  absl::Status Run(std::string_view bytes, int flush);

  struct State;
  std::unique_ptr<State> state_;
  Sink sink_;
};

}  // namespace kim

#endif  // KIM_LIB_IMAGES_GZIP_DEFLATER_H_
