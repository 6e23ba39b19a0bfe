// Names of transfer states as the Docker CLI prints them.
#include "kim/progress.h"

namespace kim {

std::string TransferStateName(TransferState state, bool is_push) {
  switch (state) {
    case TransferState::kWaiting:
      return "Waiting";
    case TransferState::kTransferring:
      return is_push ? "Pushing" : "Downloading";
    case TransferState::kVerifying:
      return is_push ? "Pushing" : "Verifying Checksum";
    case TransferState::kExtracting:
      return "Extracting";
    case TransferState::kDone:
      return is_push ? "Pushed" : "Pull complete";
    case TransferState::kExists:
      return is_push ? "Layer already exists" : "Already exists";
    case TransferState::kMounted:
      return "Mounted from another repository";
  }
  return "Unknown";
}

}  // namespace kim
