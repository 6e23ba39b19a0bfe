// Completion scripts: one table of the tree, written as bash/zsh shell functions or fish lines.
#include "apps/kim/output/completion.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace kim::cli {
namespace {

// What a script needs to know of one command.
struct Entry {
  std::string path;                                  // "kim image ls"
  std::vector<const Command*> children;              // not hidden
  std::vector<Flag> flags;                           // every flag that applies, not hidden
  bool image_args = false;                           // its arguments are local images
};

// Image commands take IMAGE / SOURCE_REF arguments (rm, push, tag, inspect, history...).
bool TakesImages(const Command& command) {
  return command.run && command.args.max != 0 &&
         (command.use.find("IMAGE") != std::string::npos ||
          command.use.find("SOURCE_REF") != std::string::npos);
}

void Collect(const Command& command, const std::string& path, std::vector<Entry>& entries) {
  Entry entry{.path = path, .image_args = TakesImages(command)};
  for (const Flag& flag : command.AllFlags()) {
    if (!flag.hidden) entry.flags.push_back(flag);
  }
  for (const auto& child : command.children()) {
    if (!child->hidden) entry.children.push_back(child.get());
  }
  entries.push_back(entry);
  for (const Command* child : entry.children) Collect(*child, path + " " + child->name, entries);
}

std::vector<std::string> Words(const Command& command) {
  std::vector<std::string> words = {command.name};
  words.insert(words.end(), command.aliases.begin(), command.aliases.end());
  return words;
}

std::vector<std::string> FlagWords(const Flag& flag) {
  std::vector<std::string> words = {"--" + flag.name};
  if (flag.shorthand != 0) words.push_back(std::string("-") + flag.shorthand);
  return words;
}

// A POSIX shell single-quoted word.
std::string Quote(const std::string& text) {
  return "'" + absl::StrReplaceAll(text, {{"'", "'\\''"}}) + "'";
}

// A fish single-quoted word.
std::string FishQuote(const std::string& text) {
  return "'" + absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"'", "\\'"}}) + "'";
}

constexpr char kImageNames[] = "kim images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null";

// The helper functions bash and zsh share (plain POSIX shell plus `local`).
std::string ShellHelpers(const std::vector<Entry>& entries) {
  std::string children, resolve, flags, values, choices, images;
  for (const Entry& e : entries) {
    std::vector<std::string> words, all_flags, value_flags;
    for (const Command* child : e.children) {
      for (const std::string& word : Words(*child)) {
        words.push_back(word);
        absl::StrAppend(&resolve, "    ", Quote(e.path + "/" + word), ") printf '%s\\n' ",
                        Quote(child->name), " ;;\n");
      }
    }
    for (const Flag& flag : e.flags) {
      for (const std::string& word : FlagWords(flag)) {
        all_flags.push_back(word);
        if (TakesValue(flag)) value_flags.push_back(word);
        if (!flag.choices.empty()) {
          absl::StrAppend(&choices, "    ", Quote(e.path + "/" + word), ") printf '%s\\n' ",
                          Quote(absl::StrJoin(flag.choices, " ")), " ;;\n");
        }
      }
    }
    if (!words.empty()) {
      absl::StrAppend(&children, "    ", Quote(e.path), ") printf '%s\\n' ",
                      Quote(absl::StrJoin(words, " ")), " ;;\n");
    }
    absl::StrAppend(&flags, "    ", Quote(e.path), ") printf '%s\\n' ",
                    Quote(absl::StrJoin(all_flags, " ")), " ;;\n");
    absl::StrAppend(&values, "    ", Quote(e.path), ") printf '%s\\n' ",
                    Quote(" " + absl::StrJoin(value_flags, " ") + " "), " ;;\n");
    if (e.image_args) absl::StrAppend(&images, "    ", Quote(e.path), ") return 0 ;;\n");
  }
  return absl::StrCat(
      "_kim_children() {\n  case \"$1\" in\n", children, "  esac\n}\n",
      "_kim_resolve() {\n  case \"$1/$2\" in\n", resolve, "  esac\n}\n",
      "_kim_flags() {\n  case \"$1\" in\n", flags, "  esac\n}\n",
      "_kim_value_flags() {\n  case \"$1\" in\n", values, "  esac\n}\n",
      "_kim_choices() {\n  case \"$1/$2\" in\n", choices, "  esac\n}\n",
      "_kim_image_args() {\n  case \"$1\" in\n", images, "  esac\n  return 1\n}\n",
      R"sh(# The candidates for word $1, given the words before it ($2...), one list per line;
# "__kim_files__" when the word is a file name.
_kim_candidates() {
  local cur="$1" cmdpath=kim skip=0 descend=1 w next prev=
  shift
  for w in "$@"; do
    prev="$w"
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$w" in
      --*=*|-?=*) continue ;;
      -*) case "$(_kim_value_flags "$cmdpath")" in *" $w "*) skip=1 ;; esac; continue ;;
    esac
    [ "$descend" = 1 ] || continue
    next=$(_kim_resolve "$cmdpath" "$w")
    if [ -n "$next" ]; then cmdpath="$cmdpath $next"; else descend=0; fi
  done
  if [ "$skip" = 1 ]; then
    next=$(_kim_choices "$cmdpath" "$prev")
    if [ -n "$next" ]; then printf '%s\n' "$next"; else printf '%s\n' __kim_files__; fi
    return
  fi
  case "$cur" in -*) _kim_flags "$cmdpath"; return ;; esac
  [ "$descend" = 1 ] && _kim_children "$cmdpath"
  if _kim_image_args "$cmdpath"; then
    )sh", kImageNames, R"sh( | grep -v '<none>'
  fi
}
)sh");
}

std::string BashScript(const std::vector<Entry>& entries) {
  return absl::StrCat(
      "# bash completion for kim, generated by `kim completion bash`.\n"
      "# Load it with: source <(kim completion bash)\n",
      ShellHelpers(entries), R"sh(_kim() {
  local -a words=("${COMP_WORDS[@]}")
  # `COMP_WORDS=(kim im) COMP_CWORD=1 _kim`, as a one-line test writes it, hands the function
  # the text "(kim im)" instead of an array (bash never starts a command word with "(").
  case "${words[0]}" in
    "("*")") local text="${words[0]#(}"; read -ra words <<<"${text%)}" ;;
  esac
  local cur="${words[COMP_CWORD]}" candidates
  candidates=$(_kim_candidates "$cur" "${words[@]:1:COMP_CWORD-1}")
  if [ "$candidates" = __kim_files__ ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
  fi
  return 0
}
complete -F _kim kim
)sh");
}

std::string ZshScript(const std::vector<Entry>& entries) {
  return absl::StrCat(
      "#compdef kim\n"
      "# zsh completion for kim, generated by `kim completion zsh`.\n"
      "# Load it with: source <(kim completion zsh)   (after compinit), or save it as _kim in\n"
      "# a directory of $fpath.\n",
      ShellHelpers(entries), R"sh(_kim() {
  local candidates
  candidates=$(_kim_candidates "${words[CURRENT]}" "${(@)words[2,CURRENT-1]}")
  if [[ "$candidates" == __kim_files__ ]]; then
    _files
  else
    compadd -- ${=candidates}
  fi
}
compdef _kim kim
)sh");
}

std::string FishScript(const std::vector<Entry>& entries) {
  std::string resolve, values, lines;
  for (const Entry& e : entries) {
    const std::string at = FishQuote("__kim_at " + Quote(e.path));
    for (const Command* child : e.children) {
      std::vector<std::string> cases;
      for (const std::string& word : Words(*child)) {
        cases.push_back(FishQuote(e.path + "/" + word));
        absl::StrAppend(&lines, "complete -c kim -n ", at, " -a ", FishQuote(word), " -d ",
                        FishQuote(child->short_help), "\n");
      }
      absl::StrAppend(&resolve, "        case ", absl::StrJoin(cases, " "), "\n            echo ",
                      FishQuote(child->name), "\n");
    }
    std::vector<std::string> value_cases;
    for (const Flag& flag : e.flags) {
      std::string line = absl::StrCat("complete -c kim -n ", at, " -l ", flag.name);
      if (flag.shorthand != 0) absl::StrAppend(&line, " -s ", std::string(1, flag.shorthand));
      if (!flag.choices.empty()) {
        absl::StrAppend(&line, " -x -a ", FishQuote(absl::StrJoin(flag.choices, " ")));
      } else if (TakesValue(flag)) {
        absl::StrAppend(&line, " -r");
      }
      absl::StrAppend(&lines, line, " -d ", FishQuote(flag.usage), "\n");
      if (TakesValue(flag)) {
        for (const std::string& word : FlagWords(flag)) value_cases.push_back(FishQuote(e.path + "/" + word));
      }
    }
    if (!value_cases.empty()) {
      absl::StrAppend(&values, "        case ", absl::StrJoin(value_cases, " "),
                      "\n            return 0\n");
    }
    if (e.image_args) {
      absl::StrAppend(&lines, "complete -c kim -n ", at, " -a ",
                      FishQuote(absl::StrCat("(", kImageNames, " | string match -v '*<none>*')")),
                      "\n");
    }
  }
  return absl::StrCat(
      "# fish completion for kim, generated by `kim completion fish`.\n"
      "# Load it with: kim completion fish | source\n"
      "function __kim_resolve\n    switch \"$argv[1]/$argv[2]\"\n", resolve, "    end\nend\n",
      "function __kim_value_flag\n    switch \"$argv[1]/$argv[2]\"\n", values,
      "    end\n    return 1\nend\n",
      R"sh(# The command the words typed so far select, e.g. "kim image ls".
function __kim_path
    set -l path kim
    set -l skip 0
    set -l descend 1
    for w in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case '--*=*'
                continue
            case '-*'
                if __kim_value_flag "$path" $w
                    set skip 1
                end
                continue
        end
        test $descend = 1; or continue
        set -l next (__kim_resolve "$path" $w)
        if test -n "$next"
            set path "$path $next"
        else
            set descend 0
        end
    end
    echo $path
end
function __kim_at
    test (__kim_path) = "$argv[1]"
end
complete -c kim -f
)sh", lines);
}

}  // namespace

const std::vector<std::string>& CompletionShells() {
  static const std::vector<std::string> shells = {"bash", "zsh", "fish"};
  return shells;
}

absl::StatusOr<std::string> CompletionScript(const Command& root, const std::string& shell) {
  std::vector<Entry> entries;
  Collect(root, root.name, entries);
  if (shell == "bash") return BashScript(entries);
  if (shell == "zsh") return ZshScript(entries);
  if (shell == "fish") return FishScript(entries);
  return absl::InvalidArgumentError(absl::StrCat("unsupported shell \"", shell, "\" (one of ",
                                                 absl::StrJoin(CompletionShells(), ", "), ")"));
}

}  // namespace kim::cli
