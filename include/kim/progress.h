// Progress events reported while images move: the model shared by pull, push and the CLI's
// progress bars.
#ifndef KIM_PROGRESS_H_
#define KIM_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <string>

namespace kim {

// The stage one blob (layer, config or manifest) of a pull or push is in.
enum class TransferState {
  kWaiting,       // known, not started
  kTransferring,  // bytes moving
  kVerifying,     // transferred, being checked or committed
  kExtracting,    // being unpacked into a snapshot (pull only)
  kDone,          // finished
  kExists,        // already at the destination; nothing moved
  kMounted,       // mounted from another repository of the same registry (push only)
};

// The state of one blob at one moment.
struct BlobProgress {
  std::string digest;      // "sha256:..."
  std::string media_type;  // the blob's media type
  TransferState state = TransferState::kWaiting;
  int64_t offset = 0;      // bytes moved so far
  int64_t total = 0;       // the blob's size; 0 while unknown
};

// Receives progress as it happens. Called from the thread doing the work; must not block long.
using ProgressCallback = std::function<void(const BlobProgress&)>;

// The word Docker's CLI shows for a state, e.g. "Downloading" or "Pushed".
std::string TransferStateName(TransferState state, bool is_push);

}  // namespace kim

#endif  // KIM_PROGRESS_H_
