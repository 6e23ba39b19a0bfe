// Command tree lookup and the Execute loop: find the command, check flags, parse them with
// cxxopts, apply defaults and the environment, check arguments, run.
#include "apps/kim/cli/command.h"

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "apps/kim/cli/cxxopts.h"
#include "kim/log.h"

namespace kim::cli {
namespace {

Flag HelpFlag(const Command& command) {
  return Flag{.name = "help", .shorthand = 'h', .type = FlagType::kBool,
              .usage = "help for " + command.name};
}

const Flag* FindLong(const std::vector<Flag>& flags, std::string_view name) {
  for (const Flag& flag : flags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

const Flag* FindShort(const std::vector<Flag>& flags, char shorthand) {
  for (const Flag& flag : flags) {
    if (flag.shorthand != 0 && flag.shorthand == shorthand) return &flag;
  }
  return nullptr;
}

// The result of walking argv: which command it selects and what is left for that command.
struct Walk {
  Command* command = nullptr;
  std::vector<std::string> rest;  // flags and positional arguments, command words removed
  std::string error;              // the first unknown flag, in cobra's words
};

// Descends the tree along the leading non-flag words, skipping flag values, like cobra's Find.
Walk FindCommand(Command& root, const std::vector<std::string>& argv) {
  Walk walk{.command = &root};
  bool positional_seen = false;
  bool after_dashes = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (after_dashes) {
      walk.rest.push_back(arg);
      continue;
    }
    if (arg == "--") {
      after_dashes = true;
      walk.rest.push_back(arg);
      continue;
    }
    const std::vector<Flag> flags = walk.command->AllFlags();
    if (arg.size() > 2 && arg.starts_with("--")) {
      walk.rest.push_back(arg);
      const std::string name = arg.substr(2, arg.find('=') == std::string::npos
                                                 ? std::string::npos
                                                 : arg.find('=') - 2);
      const Flag* flag = FindLong(flags, name);
      if (flag == nullptr) {
        if (walk.error.empty()) walk.error = "unknown flag: --" + name;
        continue;
      }
      if (TakesValue(*flag) && arg.find('=') == std::string::npos && i + 1 < argv.size()) {
        walk.rest.push_back(argv[++i]);
      }
      continue;
    }
    if (arg.size() > 2 && arg[0] == '-' && arg[1] != '-' && arg[2] == '=') {
      // "-H=false": pflag's short form with a value, passed on as "--human=false".
      const Flag* flag = FindShort(flags, arg[1]);
      walk.rest.push_back(flag != nullptr ? "--" + flag->name + arg.substr(2) : arg);
      if (flag == nullptr && walk.error.empty()) {
        walk.error = absl::StrCat("unknown shorthand flag: '", std::string(1, arg[1]), "' in ", arg);
      }
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-' && arg[1] != '-') {
      walk.rest.push_back(arg);
      for (size_t j = 1; j < arg.size(); ++j) {
        const Flag* flag = FindShort(flags, arg[j]);
        if (flag == nullptr) {
          if (walk.error.empty()) {
            walk.error = absl::StrCat("unknown shorthand flag: '", std::string(1, arg[j]),
                                      "' in ", arg);
          }
          break;
        }
        if (TakesValue(*flag)) {
          if (j + 1 == arg.size() && i + 1 < argv.size()) walk.rest.push_back(argv[++i]);
          break;  // the rest of this word is the flag's value
        }
      }
      continue;
    }
    if (!positional_seen) {
      if (Command* child = walk.command->Find(arg)) {
        walk.command = child;
        continue;
      }
    }
    positional_seen = true;
    walk.rest.push_back(arg);
  }
  return walk;
}

std::string PluralArguments(int n) {
  return absl::StrCat(n, n == 1 ? " argument." : " arguments.");
}

// Checks the number of positional arguments like cobra's ExactArgs/MinimumNArgs/MaximumNArgs,
// with the Docker CLI's wording.
std::string CheckArgCount(const Command& command, size_t given) {
  const ArgCount& count = command.args;
  const int n = static_cast<int>(given);
  const std::string quoted = "\"" + command.Path() + "\"";
  if (count.max == 0 && n > 0) return absl::StrCat(quoted, " accepts no arguments.");
  if (count.min == count.max && n != count.min) {
    return absl::StrCat(quoted, " requires exactly ", PluralArguments(count.min));
  }
  if (n < count.min) return absl::StrCat(quoted, " requires at least ", PluralArguments(count.min));
  if (count.max >= 0 && n > count.max) {
    return absl::StrCat(quoted, " accepts at most ", PluralArguments(count.max));
  }
  return "";
}

// Parses `rest` with cxxopts against `flags`, then applies the environment and defaults.
bool ParseFlags(const std::vector<Flag>& flags, const std::vector<std::string>& rest,
                Invocation& invocation, std::string& error) {
  cxxopts::Options options("kim");
  auto adder = options.add_options();
  for (const Flag& flag : flags) {
    const std::string spec =
        flag.shorthand != 0 ? absl::StrCat(std::string(1, flag.shorthand), ",", flag.name)
                            : flag.name;
    switch (flag.type) {
      case FlagType::kBool:
        adder(spec, flag.usage, cxxopts::value<bool>());
        break;
      case FlagType::kStringArray:
      case FlagType::kStringSlice:
        adder(spec, flag.usage, cxxopts::value<std::vector<std::string>>());
        break;
      default:
        adder(spec, flag.usage, cxxopts::value<std::string>());
        break;
    }
  }
  std::vector<const char*> c_argv{"kim"};
  for (const std::string& arg : rest) c_argv.push_back(arg.c_str());
  try {
    const cxxopts::ParseResult result =
        options.parse(static_cast<int>(c_argv.size()), c_argv.data());
    for (const Flag& flag : flags) {
      if (result.count(flag.name) > 0) {
        std::vector<std::string> values;
        switch (flag.type) {
          case FlagType::kBool:
            values.push_back(result[flag.name].as<bool>() ? "true" : "false");
            break;
          case FlagType::kStringArray:
            values = result[flag.name].as<std::vector<std::string>>();
            break;
          case FlagType::kStringSlice:
            for (const std::string& value : result[flag.name].as<std::vector<std::string>>()) {
              for (absl::string_view part : absl::StrSplit(value, ',')) {
                values.emplace_back(std::string(part));
              }
            }
            break;
          default:
            values.push_back(result[flag.name].as<std::string>());
            break;
        }
        invocation.flags.Set(flag.name, std::move(values), true);
        continue;
      }
      const char* env = flag.env.empty() ? nullptr : std::getenv(flag.env.c_str());
      if (env != nullptr && *env != '\0') {
        invocation.flags.Set(flag.name, {env}, false);
      } else if (!flag.default_value.empty()) {
        invocation.flags.Set(flag.name, {flag.default_value}, false);
      }
    }
    invocation.args = result.unmatched();
  } catch (const cxxopts::exceptions::exception& e) {
    error = e.what();
    return false;
  }
  for (const Flag& flag : flags) {
    if (!invocation.flags.Changed(flag.name)) continue;
    const std::string value = invocation.flags.String(flag.name);
    if (flag.type == FlagType::kInt) {
      char* end = nullptr;
      std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0') {
        error = absl::StrCat("invalid argument \"", value, "\" for \"--", flag.name,
                             "\" flag: not an integer");
        return false;
      }
    }
  }
  return true;
}

}  // namespace

Command* Command::Add(std::unique_ptr<Command> child) {
  child->parent_ = this;
  children_.push_back(std::move(child));
  return children_.back().get();
}

Command* Command::Find(const std::string& word) const {
  for (const auto& child : children_) {
    if (child->name == word) return child.get();
    if (std::find(child->aliases.begin(), child->aliases.end(), word) != child->aliases.end()) {
      return child.get();
    }
  }
  return nullptr;
}

std::string Command::Path() const {
  if (!display_name_.empty()) return display_name_;
  if (parent_ == nullptr) return name;
  return parent_->Path() + " " + name;
}

std::string Command::UseLine() const {
  return use.empty() ? Path() : Path() + " " + use;
}

std::vector<Flag> Command::InheritedFlags() const {
  std::vector<Flag> inherited;
  std::set<std::string> seen;
  for (const Flag& flag : flags) seen.insert(flag.name);
  for (const Flag& flag : persistent_flags) seen.insert(flag.name);
  seen.insert("help");
  for (const Command* c = parent_; c != nullptr; c = c->parent_) {
    for (const Flag& flag : c->persistent_flags) {
      if (seen.insert(flag.name).second) inherited.push_back(flag);
    }
  }
  return inherited;
}

std::vector<Flag> Command::AllFlags() const {
  std::vector<Flag> all = flags;
  all.insert(all.end(), persistent_flags.begin(), persistent_flags.end());
  all.push_back(HelpFlag(*this));
  const std::vector<Flag> inherited = InheritedFlags();
  all.insert(all.end(), inherited.begin(), inherited.end());
  return all;
}

int UsageError(const Command& command, const std::string& message, std::ostream& err) {
  err << message << "\n"
      << "See '" << command.Path() << " --help'.\n\n"
      << "Usage:  " << command.UseLine() << "\n";
  return kExitUsage;
}

int Execute(Command& root, const std::vector<std::string>& argv, std::ostream& out,
            std::ostream& err) {
  Walk walk = FindCommand(root, argv);
  Command& command = *walk.command;
  if (!walk.error.empty()) return UsageError(command, walk.error, err);

  Invocation invocation{.command = &command, .out = &out, .err = &err};
  std::string error;
  if (!ParseFlags(command.AllFlags(), walk.rest, invocation, error)) {
    return UsageError(command, error, err);
  }
  if (invocation.flags.Bool("help")) {
    WriteHelp(command, out);
    return kExitOk;
  }
  for (const Flag& flag : command.AllFlags()) {
    const std::string value = invocation.flags.String(flag.name);
    if (flag.choices.empty() || value.empty() ||
        std::find(flag.choices.begin(), flag.choices.end(), value) != flag.choices.end()) {
      continue;
    }
    return UsageError(command,
                      absl::StrCat("invalid argument \"", value, "\" for \"--", flag.name,
                                   "\" flag: must be one of ", absl::StrJoin(flag.choices, ", ")),
                      err);
  }
  if (invocation.flags.Bool("debug")) {
    const std::string level = invocation.flags.String("debug-level");
    SetLogVerbosity(level.empty() ? 0 : std::atoi(level.c_str()));
    LogDebug(0, absl::StrCat("running \"", command.Path(), "\""));
  }
  // A word that is no subcommand, given to a command that takes no arguments of its own.
  const bool takes_args = command.run && command.args.max != 0;
  if (!invocation.args.empty() && !command.children().empty() && !takes_args) {
    return UsageError(command, absl::StrCat("unknown command \"", invocation.args.front(),
                                            "\" for \"", command.Path(), "\""),
                      err);
  }
  if (!command.run) {
    WriteHelp(command, out);
    return kExitOk;
  }
  if (std::string count_error = CheckArgCount(command, invocation.args.size());
      !count_error.empty()) {
    return UsageError(command, count_error, err);
  }
  return command.run(invocation);
}

}  // namespace kim::cli
