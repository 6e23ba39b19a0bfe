// `kim completion bash|zsh|fish`: shell completion scripts generated from the command tree:
// commands and aliases, each command's flags (inherited ones too), the choices of flags that
// have them, and image names (from `kim images`) for the arguments of image commands.
#ifndef KIM_APPS_KIM_OUTPUT_COMPLETION_H_
#define KIM_APPS_KIM_OUTPUT_COMPLETION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "apps/kim/cli/command.h"

namespace kim::cli {

// The shells CompletionScript knows.
const std::vector<std::string>& CompletionShells();

// The script for `shell` ("bash": a `complete -F _kim kim` function; "zsh": the same logic
// through `compdef _kim kim` and compadd; "fish": `complete -c kim` lines) over the tree under
// `root`. InvalidArgument naming the known shells for any other shell.
absl::StatusOr<std::string> CompletionScript(const Command& root, const std::string& shell);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_COMPLETION_H_
