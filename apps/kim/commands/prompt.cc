// The [y/N] prompt.
#include "apps/kim/commands/prompt.h"

#include "absl/strings/ascii.h"

namespace kim::cli {

bool Confirm(const std::string& message, std::istream& in, std::ostream& out) {
  out << message << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(in, answer)) {
    out << "\n";
    return false;
  }
  const std::string trimmed(absl::StripAsciiWhitespace(answer));
  return trimmed == "y" || trimmed == "Y";
}

}  // namespace kim::cli
