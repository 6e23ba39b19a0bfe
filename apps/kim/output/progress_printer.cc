// Progress rendering.
#include "apps/kim/output/progress_printer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "kim/digest.h"
#include "kim/units.h"

namespace kim::cli {
namespace {

constexpr int kBarWidth = 50;

}  // namespace

bool IsTerminal(int fd) {
  const char* term = std::getenv("TERM");
  return isatty(fd) == 1 && (term == nullptr || std::strcmp(term, "dumb") != 0);
}

std::string ProgressPrinter::Line(const BlobProgress& progress, bool is_push, bool with_bar) {
  std::string line = absl::StrCat(ShortImageId(progress.digest), ": ",
                                   TransferStateName(progress.state, is_push));
  if (with_bar && progress.state == TransferState::kTransferring && progress.total > 0) {
    // Docker's layout: the bar, then the bytes so far right-aligned in 8 columns.
    absl::StrAppend(&line, " ", ProgressBar(progress.offset, progress.total, kBarWidth), " ",
                    absl::StrFormat("%8s/%s", HumanSize(static_cast<double>(progress.offset)),
                                    HumanSize(static_cast<double>(progress.total))));
  }
  return line;
}

void ProgressPrinter::Update(const BlobProgress& progress) {
  lines_.Set(progress.digest, TransferStateName(progress.state, is_push_),
             Line(progress, is_push_), Line(progress, is_push_, /*with_bar=*/false));
}

void ProgressPrinter::Finish() { lines_.Finish(); }

}  // namespace kim::cli
