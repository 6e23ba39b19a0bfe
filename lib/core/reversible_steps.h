// Changes made all or nothing: a batch of steps applied in order, the ones already made undone
// (in reverse) when a later one fails. Internal.
#ifndef KIM_LIB_CORE_REVERSIBLE_STEPS_H_
#define KIM_LIB_CORE_REVERSIBLE_STEPS_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"

namespace kim {

// One change and the change that takes it back.
struct ReversibleStep {
  std::function<absl::Status()> apply;
  std::function<absl::Status()> undo;
};

// Applies `steps` in order. When one fails, undoes the applied ones, last first, and returns
// that step's error; an undo that fails too is named in the message (the state it leaves is
// then said, not hidden).
absl::Status ApplyAllOrNothing(const std::vector<ReversibleStep>& steps);

}  // namespace kim

#endif  // KIM_LIB_CORE_REVERSIBLE_STEPS_H_
