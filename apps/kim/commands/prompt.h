// Docker's confirmation prompt for destructive commands (prune): the question, then " [y/N] ".
#ifndef KIM_APPS_KIM_COMMANDS_PROMPT_H_
#define KIM_APPS_KIM_COMMANDS_PROMPT_H_

#include <istream>
#include <ostream>
#include <string>

namespace kim::cli {

// Writes `message` and " [y/N] " to `out`, reads one line from `in` and returns true only for
// "y" or "Y" (surrounding blanks ignored), like the Docker CLI. End of input means no.
bool Confirm(const std::string& message, std::istream& in, std::ostream& out);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_COMMANDS_PROMPT_H_
