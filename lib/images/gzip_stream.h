// Streaming gzip decompression with zlib, for archives and layers read as their bytes arrive.
// Internal.
#ifndef KIM_LIB_IMAGES_GZIP_STREAM_H_
#define KIM_LIB_IMAGES_GZIP_STREAM_H_

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/status.h"

namespace kim {

// True when `bytes` starts with gzip's magic number (1f 8b).
bool LooksGzipped(std::string_view bytes);

// Inflates a gzip stream (several members in a row, as pigz writes, included) pushed to it in
// pieces. Not thread-safe.
class GzipInflater {
 public:
  // Receives the decompressed bytes in order.
  using Sink = std::function<absl::Status(std::string_view)>;

  explicit GzipInflater(Sink sink);
  ~GzipInflater();
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // Decompresses `bytes` into the sink. DataLoss `corrupt gzip data` on a bad stream.
  absl::Status Feed(std::string_view bytes);

  // The input has ended: DataLoss `truncated gzip data` unless the last member was complete.
  absl::Status Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
  Sink sink_;
};

}  // namespace kim

#endif  // KIM_LIB_IMAGES_GZIP_STREAM_H_
