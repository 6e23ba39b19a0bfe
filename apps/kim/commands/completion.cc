// `kim completion bash|zsh|fish`: prints the shell completion script for the command tree.
#include <algorithm>
#include <ostream>

#include "absl/strings/str_join.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/output/completion.h"

namespace kim::cli {
namespace {

int RunCompletion(Invocation& invocation) {
  const std::string& shell = invocation.args.front();
  const auto& shells = CompletionShells();
  if (std::find(shells.begin(), shells.end(), shell) == shells.end()) {
    return UsageError(*invocation.command,
                      "unsupported shell \"" + shell + "\": must be one of " +
                          absl::StrJoin(shells, ", "),
                      *invocation.err);
  }
  const Command* root = invocation.command;
  while (root->parent() != nullptr) root = root->parent();
  auto script = CompletionScript(*root, shell);
  if (!script.ok()) return ReportError(invocation, script.status());
  *invocation.out << *script;
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewCompletionCommand() {
  auto completion = std::make_unique<Command>();
  completion->name = "completion";
  completion->use = "bash|zsh|fish";
  completion->short_help = "Generate the shell completion script";
  completion->long_help =
      "Generate the completion script for bash, zsh or fish: commands, flags, flag values\n"
      "and local image names.\n\n"
      "  bash:  source <(kim completion bash)\n"
      "  zsh:   source <(kim completion zsh)    (after compinit)\n"
      "  fish:  kim completion fish | source";
  completion->args = {.min = 1, .max = 1};
  completion->run = RunCompletion;
  return completion;
}

}  // namespace kim::cli
