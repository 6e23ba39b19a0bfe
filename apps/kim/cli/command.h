// The command tree of the kim CLI: commands with aliases, flags (local and inherited), argument
// rules and help sections, in the shape of cobra, which the original kim used.
#ifndef KIM_APPS_KIM_CLI_COMMAND_H_
#define KIM_APPS_KIM_CLI_COMMAND_H_

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "apps/kim/cli/flag.h"

namespace kim::cli {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

class Command;

// What a running command sees: its parsed flags, its positional arguments and its streams.
struct Invocation {
  const Command* command = nullptr;
  FlagValues flags;
  std::vector<std::string> args;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
};

// How many positional arguments a command takes.
struct ArgCount {
  int min = 0;
  int max = -1;  // -1 = unbounded
};

// One command: `kim`, `kim image`, `kim image build`...
class Command {
 public:
  using RunFunc = std::function<int(Invocation&)>;

  std::string name;                  // the word that selects it
  std::vector<std::string> aliases;  // other words that select it
  std::string use;                   // usage after the name, e.g. "[OPTIONS] PATH"
  std::string short_help;            // one line for command lists
  std::string long_help;             // shown atop its own help; short_help when empty
  std::string example;               // shown under Examples
  std::string group;                 // the parent's help section listing it; "" = Available Commands
  std::vector<std::string> shown_aliases;  // the Aliases line of its help, when set
  bool hidden = false;               // left out of its parent's lists
  ArgCount args;
  std::vector<Flag> flags;           // its own flags
  std::vector<Flag> persistent_flags;  // its own flags that its subcommands inherit
  RunFunc run;                       // empty: the command only groups others and prints help

  // Adds `child` under this command and returns it.
  Command* Add(std::unique_ptr<Command> child);
  // The subcommand named or aliased `word`, or nullptr.
  Command* Find(const std::string& word) const;
  const std::vector<std::unique_ptr<Command>>& children() const { return children_; }
  const Command* parent() const { return parent_; }

  // The words that invoke it, e.g. "kim image build" (or "kubectl image build" as a plugin).
  std::string Path() const;
  // Path() followed by `use`.
  std::string UseLine() const;
  // Every flag that applies: its own, its persistent ones, and those inherited from ancestors
  // (a local flag shadows an inherited one of the same name).
  std::vector<Flag> AllFlags() const;
  // The inherited flags only, minus shadowed ones.
  std::vector<Flag> InheritedFlags() const;

  // Overrides the path prefix shown for the root, e.g. "kubectl image" in plugin mode.
  void SetDisplayName(std::string display_name) { display_name_ = std::move(display_name); }

 private:
  std::vector<std::unique_ptr<Command>> children_;
  const Command* parent_ = nullptr;
  std::string display_name_;
};

// Parses `argv` (without the program name) against the tree rooted at `root` and runs the
// selected command, printing help or usage errors as the Docker CLI does. Returns the exit code.
int Execute(Command& root, const std::vector<std::string>& argv, std::ostream& out,
            std::ostream& err);

// Writes the full help of `command` (the text `--help` prints).
void WriteHelp(const Command& command, std::ostream& out);

// Prints a usage error for `command` on `err` and returns kExitUsage.
int UsageError(const Command& command, const std::string& message, std::ostream& err);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_CLI_COMMAND_H_
