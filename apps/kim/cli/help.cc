// Help text in the shape of the original kim (cobra's template with an "Images Shortcuts"
// section): description, Usage, Aliases, Examples, command lists, Flags, Global Flags.
#include <algorithm>
#include <map>
#include <ostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "apps/kim/cli/command.h"

namespace kim::cli {
namespace {

// Renders flags as pflag's FlagUsages does: sorted by name, usage column aligned.
std::string FlagTable(std::vector<Flag> flags) {
  std::sort(flags.begin(), flags.end(),
            [](const Flag& a, const Flag& b) { return a.name < b.name; });
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const Flag& flag : flags) {
    if (flag.hidden) continue;
    std::string left = flag.shorthand != 0 ? absl::StrCat("  -", std::string(1, flag.shorthand),
                                                          ", --", flag.name)
                                           : absl::StrCat("      --", flag.name);
    if (TakesValue(flag)) absl::StrAppend(&left, " ", FlagTypeName(flag.type));
    std::string right = flag.usage;
    if (!flag.default_value.empty() && flag.type != FlagType::kBool) {
      const bool quoted = flag.type == FlagType::kString;
      absl::StrAppend(&right, right.empty() ? "" : " ", "(default ", quoted ? "\"" : "",
                      flag.default_value, quoted ? "\"" : "", ")");
    }
    width = std::max(width, left.size());
    rows.emplace_back(std::move(left), std::move(right));
  }
  std::string table;
  for (const auto& [left, right] : rows) {
    absl::StrAppend(&table, left, std::string(width - left.size() + 3, ' '), right, "\n");
  }
  return table;
}

// Lists commands as cobra does: name padded to at least 11 columns, then the short help.
std::string CommandList(const std::vector<const Command*>& commands) {
  size_t pad = 11;
  for (const Command* c : commands) pad = std::max(pad, c->name.size());
  std::string list;
  for (const Command* c : commands) {
    absl::StrAppend(&list, "  ", c->name, std::string(pad - c->name.size() + 1, ' '),
                    c->short_help, "\n");
  }
  return list;
}

}  // namespace

void WriteHelp(const Command& command, std::ostream& out) {
  out << (command.long_help.empty() ? command.short_help : command.long_help) << "\n\n";

  bool has_children = false;
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<const Command*>> groups;
  for (const auto& child : command.children()) {
    if (child->hidden) continue;
    has_children = true;
    const std::string group = child->group.empty() ? "Available Commands" : child->group;
    if (!groups.contains(group)) group_order.push_back(group);
    groups[group].push_back(child.get());
  }

  out << "Usage:\n  " << command.UseLine() << "\n";
  if (has_children) out << "  " << command.Path() << " [command]\n";

  if (!command.shown_aliases.empty() || !command.aliases.empty()) {
    std::vector<std::string> names = command.shown_aliases;
    if (names.empty()) {
      names.push_back(command.name);
      names.insert(names.end(), command.aliases.begin(), command.aliases.end());
    }
    out << "\nAliases:\n  " << absl::StrJoin(names, ", ") << "\n";
  }
  if (!command.example.empty()) {
    std::string example = absl::StrReplaceAll(
        command.example, {{"\n", "\n  "}, {"{path}", command.Path()}});
    out << "\nExamples:\n  " << example << "\n";
  }
  // "Available Commands" first, then the other sections in the order children were added.
  std::stable_partition(group_order.begin(), group_order.end(),
                        [](const std::string& g) { return g == "Available Commands"; });
  for (const std::string& group : group_order) {
    out << "\n" << group << ":\n" << CommandList(groups[group]);
  }

  std::vector<Flag> local = command.flags;
  local.insert(local.end(), command.persistent_flags.begin(), command.persistent_flags.end());
  local.push_back(Flag{.name = "help", .shorthand = 'h', .usage = "help for " + command.name});
  out << "\nFlags:\n" << FlagTable(local);
  const std::string inherited = FlagTable(command.InheritedFlags());
  if (!inherited.empty()) out << "\nGlobal Flags:\n" << inherited;

  if (has_children) {
    out << "\nUse \"" << command.Path() << " [command] --help\" for more information about a "
        << "command.\n";
  }
}

}  // namespace kim::cli
