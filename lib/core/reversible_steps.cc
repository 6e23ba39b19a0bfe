// ApplyAllOrNothing.
#include "lib/core/reversible_steps.h"

#include "absl/strings/str_cat.h"

namespace kim {

absl::Status ApplyAllOrNothing(const std::vector<ReversibleStep>& steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    absl::Status status = steps[i].apply();
    if (status.ok()) continue;
    std::string undo_errors;
    for (size_t j = i; j-- > 0;) {
      if (absl::Status undone = steps[j].undo(); !undone.ok()) {
        absl::StrAppend(&undo_errors, "; and undoing an earlier change failed: ", undone.message());
      }
    }
    if (undo_errors.empty()) return status;
    return absl::Status(status.code(), absl::StrCat(status.message(), undo_errors));
  }
  return absl::OkStatus();
}

}  // namespace kim
