// Writes one blob into containerd's content store through the streaming Write call, as its bytes
// arrive: what `kim load` imports archives with. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_CONTENT_WRITER_H_
#define KIM_LIB_IMAGES_CONTAINERD_CONTENT_WRITER_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/images/containerd_connection.h"

namespace kim {

// One ingest, open from Open until Commit or destruction (which aborts it). Not thread-safe.
class ContainerdContentWriter {
 public:
  // Opens ingest `ref` for a blob of `size` bytes (-1: not known before the end), in `lease`.
  // With a non-empty `expected` digest, containerd checks it at commit; when the store already
  // has that blob, the result is nullptr: nothing needs writing.
  static absl::StatusOr<std::unique_ptr<ContainerdContentWriter>> Open(
      std::shared_ptr<const ContainerdConnection> connection, const std::string& lease,
      const std::string& ref, const std::string& expected, int64_t size);

  ~ContainerdContentWriter();

  // Appends `data` to the blob.
  absl::Status Write(std::string_view data);

  // Checks the size (and expected digest) and makes the blob visible with `labels`; returns its
  // digest. DataLoss naming both digests when the content does not match.
  absl::StatusOr<std::string> Commit(const std::map<std::string, std::string>& labels = {});

 private:
  struct Stream;
  ContainerdContentWriter(std::unique_ptr<Stream> stream, std::string ref, std::string expected,
                          int64_t size);
  absl::Status Send(int action, std::string_view data,
                    const std::map<std::string, std::string>& labels, std::string* digest);

  std::unique_ptr<Stream> stream_;
  std::string ref_;
  std::string expected_;
  int64_t size_;
  int64_t offset_ = 0;
  int unanswered_ = 0;  // requests sent whose answer was not read yet
  bool done_ = false;
  static constexpr int kWriteWindow = 4;
};

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_CONTENT_WRITER_H_
