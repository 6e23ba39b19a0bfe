// The root `kim` command: global flags, --version, `help`, and the command tree.
#include <ostream>

#include "apps/kim/commands/common.h"
#include "kim/version.h"

namespace kim::cli {
namespace {

// `kim help [command]`: the help of the named command.
std::unique_ptr<Command> NewHelpCommand(Command* root) {
  auto help = std::make_unique<Command>();
  help->name = "help";
  help->use = "[command]";
  help->short_help = "Help about any command";
  help->long_help = "Help provides help for any command in the application.\n"
                    "Simply type kim help [path to command] for full details.";
  help->run = [root](Invocation& invocation) {
    const Command* target = root;
    for (const std::string& word : invocation.args) {
      const Command* next = target->Find(word);
      if (next == nullptr) {
        *invocation.err << "Unknown help topic \"" << word << "\"\n";
        WriteHelp(*target, *invocation.err);
        return kExitUsage;
      }
      target = next;
    }
    WriteHelp(*target, *invocation.out);
    return kExitOk;
  };
  return help;
}

}  // namespace

std::unique_ptr<Command> NewRootCommand() {
  auto root = std::make_unique<Command>();
  root->name = "kim";
  root->use = "[OPTIONS] COMMAND";
  root->short_help = "Kubernetes Image Manager -- in ur kubernetes buildin ur imagez";
  root->example = "{path} image build --tag your/image:tag .";
  root->persistent_flags = GlobalFlags();
  root->flags = {{.name = "version", .shorthand = 'v', .type = FlagType::kBool,
                  .usage = "version for kim"}};
  root->args = {.min = 0, .max = 0};
  root->run = [](Invocation& invocation) {
    if (invocation.flags.Bool("version")) {
      *invocation.out << "kim version " << Version() << " (" << GitCommit() << ")\n";
      return kExitOk;
    }
    WriteHelp(*invocation.command, *invocation.out);
    return kExitOk;
  };

  Command* self = root.get();
  root->Add(NewHelpCommand(self));
  root->Add(NewImageCommand());
  root->Add(NewSystemCommand());
  root->Add(AsShortcut(NewBuildCommand(), "build", "[OPTIONS] PATH | -"));
  root->Add(AsShortcut(NewListCommand(), "images", "[OPTIONS] [REPOSITORY[:TAG]]"));
  root->Add(AsShortcut(NewPullCommand(), "pull", "[OPTIONS] IMAGE"));
  root->Add(AsShortcut(NewPushCommand(), "push", "[OPTIONS] IMAGE"));
  root->Add(AsShortcut(NewRemoveCommand(), "rmi", "[OPTIONS] IMAGE [IMAGE...]"));
  root->Add(AsShortcut(NewTagCommand(), "tag", "SOURCE_REF TARGET_REF [TARGET_REF, ...]"));
  root->Add(AsShortcut(NewSaveCommand(), "save", "[OPTIONS] IMAGE [IMAGE...]"));
  root->Add(AsShortcut(NewLoadCommand(), "load", "[OPTIONS]"));
  // inspect, history, completion (issue #14)
  root->Add(AsShortcut(NewInspectCommand(), "inspect", "[OPTIONS] IMAGE [IMAGE...]"));
  root->Add(AsShortcut(NewHistoryCommand(), "history", "[OPTIONS] IMAGE"));
  root->Add(NewCompletionCommand());
  return root;
}

std::unique_ptr<Command> NewImageCommand() {
  auto image = std::make_unique<Command>();
  image->name = "image";
  image->use = "[OPTIONS] COMMAND";
  image->short_help = "Manage Images";
  image->example = "{path} build --tag your/image:tag .";
  image->Add(NewBuildCommand());
  image->Add(NewListCommand());
  image->Add(NewPullCommand());
  image->Add(NewPushCommand());
  image->Add(NewRemoveCommand());
  image->Add(NewTagCommand());
  image->Add(NewSaveCommand());
  image->Add(NewLoadCommand());
  // inspect, history (issue #14)
  image->Add(NewInspectCommand());
  image->Add(NewHistoryCommand());
  // prune (issue #14)
  image->Add(NewImagePruneCommand());
  // several nodes (issue #13)
  image->Add(NewDistributeCommand());
  return image;
}

}  // namespace kim::cli
