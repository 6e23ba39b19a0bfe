// kim completion (the scripts load and complete in a real bash; zsh and fish, not installed here,
// are checked for their structure), and the usage errors of inspect and history.
#include <catch2/catch.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "test/support/run_process.h"

using kim::test::Run;

namespace {

kim::test::ProcessOutput Kim(std::vector<std::string> words) {
  words.insert(words.begin(), KIM_BINARY);
  return Run(words);
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// What bash completes for `words` (the last one is the word being completed), with the
// generated script loaded and no backend reachable.
std::string BashComplete(const std::vector<std::string>& words) {
  std::string array;
  for (const std::string& word : words) array += " '" + word + "'";
  const std::string script = std::string("source <(\"") + KIM_BINARY +
                             "\" completion bash) && COMP_WORDS=(" + array + ") COMP_CWORD=" +
                             std::to_string(words.size() - 1) +
                             "; _kim; printf '%s\\n' \"${COMPREPLY[*]}\"";
  const auto result = Run({"/bin/bash", "-c", script}, "",
                          {{"KIM_CONTAINERD_SOCKET", "/nonexistent/containerd.sock"}});
  INFO(script << "\n" << result.err);
  REQUIRE(result.exit_code == 0);
  return result.out.substr(0, result.out.size() - 1);
}

}  // namespace

TEST_CASE("completion bash: the script loads and registers _kim", "[cli][completion]") {
  const std::string script = std::string("source <(\"") + KIM_BINARY +
                             "\" completion bash) && complete -p kim";
  const auto result = Run({"/bin/bash", "-c", script});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "complete -F _kim kim\n");
  CHECK(result.err.empty());
}

TEST_CASE("completion bash: the one-line form with the array as a prefix", "[cli][completion]") {
  const std::string script = std::string("source <(\"") + KIM_BINARY +
                             "\" completion bash); COMP_WORDS=(kim im) COMP_CWORD=1 _kim; "
                             "echo \"${COMPREPLY[@]}\"";
  const auto result = Run({"/bin/bash", "-c", script});
  INFO(result.err);
  CHECK(result.out == "image images\n");
}

TEST_CASE("completion bash: commands, aliases, flags and their values", "[cli][completion]") {
  CHECK(BashComplete({"kim", "im"}) == "image images");
  CHECK(BashComplete({"kim", "image", "l"}) == "ls list load");
  CHECK(BashComplete({"kim", "comp"}) == "completion");
  CHECK(BashComplete({"kim", "history", "--no"}) == "--no-trunc");
  CHECK(BashComplete({"kim", "image", "inspect", "--f"}) == "--format");
  CHECK(BashComplete({"kim", "--tunnel", ""}) == "auto always never");
  CHECK(BashComplete({"kim", "-n", "foo", "ima"}) == "image images");  // a flag's value skipped
  // Global flags apply to every command.
  CHECK(Contains(BashComplete({"kim", "images", "--"}), "--containerd-socket"));
  // An image command's argument: image names (none here: no backend), no subcommands.
  CHECK(BashComplete({"kim", "rmi", ""}).empty());
}

TEST_CASE("completion zsh and fish: generated from the same tree", "[cli][completion]") {
  const auto zsh = Kim({"completion", "zsh"});
  REQUIRE(zsh.exit_code == 0);
  CHECK(zsh.out.starts_with("#compdef kim\n"));
  CHECK(Contains(zsh.out, "\ncompdef _kim kim\n"));
  CHECK(Contains(zsh.out, "compadd -- ${=candidates}"));
  CHECK(Contains(zsh.out, "'kim/image') printf '%s\\n' 'image' ;;"));
  CHECK(Contains(zsh.out, "'kim image/list') printf '%s\\n' 'ls' ;;"));
  // The shared helpers are plain POSIX shell: they load in sh (bash --posix) too.
  const auto posix = Run({"/bin/bash", "--posix", "-c",
                          std::string("eval \"$(\"") + KIM_BINARY +
                              "\" completion zsh | sed -n '/^_kim_children/,/^_kim() {/p' | "
                              "sed '$d')\" && _kim_candidates im | tr ' ' '\\n' | grep -x images"});
  INFO(posix.err);
  CHECK(posix.exit_code == 0);

  const auto fish = Kim({"completion", "fish"});
  REQUIRE(fish.exit_code == 0);
  CHECK(fish.out.starts_with("# fish completion for kim"));
  CHECK(Contains(fish.out, "\ncomplete -c kim -f\n"));
  CHECK(Contains(fish.out, "complete -c kim -n '__kim_at \\'kim\\'' -a 'image' -d 'Manage Images'\n"));
  CHECK(Contains(fish.out, "complete -c kim -n '__kim_at \\'kim image\\'' -a 'list' -d 'List images'\n"));
  CHECK(Contains(fish.out, " -l tunnel -x -a 'auto always never' -d "));
  CHECK(Contains(fish.out, "complete -c kim -n '__kim_at \\'kim history\\'' -l human -s H -d "));
  CHECK(Contains(fish.out, "(kim images --format "));
  CHECK(Contains(fish.out, "function __kim_path\n"));
  // Every block fish is given is closed: as many `end`s as blocks opened.
  size_t opened = 0, closed = 0;
  for (absl::string_view line : absl::StrSplit(fish.out, '\n')) {
    const absl::string_view code = absl::StripLeadingAsciiWhitespace(line);
    for (const char* word : {"function ", "switch ", "for ", "if "}) {
      if (absl::StartsWith(code, word)) ++opened;
    }
    if (code == "end") ++closed;
  }
  CHECK(opened > 5);
  CHECK(opened == closed);
}

TEST_CASE("completion of an unknown shell is a usage error", "[cli][completion][errors]") {
  const auto result = Kim({"completion", "powershell"});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(Contains(result.err, "unsupported shell \"powershell\": must be one of bash, zsh, fish\n"));
  CHECK(Contains(result.err, "Usage:  kim completion bash|zsh|fish\n"));
  CHECK(Kim({"completion"}).exit_code == 2);
}

TEST_CASE("inspect and history: usage errors before anything is contacted", "[cli][errors]") {
  const auto no_args = Kim({"inspect"});
  CHECK(no_args.exit_code == 2);
  CHECK(Contains(no_args.err, "\"kim inspect\" requires at least 1 argument."));
  const auto two = Kim({"history", "a", "b"});
  CHECK(two.exit_code == 2);
  CHECK(Contains(two.err, "\"kim history\" requires exactly 1 argument."));
  for (const std::vector<std::string>& words :
       {std::vector<std::string>{"inspect", "-f", "{{.Id", "x"},
        std::vector<std::string>{"image", "inspect", "--format", "{{range .RepoTags}}", "x"},
        std::vector<std::string>{"history", "--format", "{{nope .ID}}", "x"}}) {
    const auto result = Run([&] {
      std::vector<std::string> argv = {KIM_BINARY, "--containerd-socket", "/nonexistent.sock"};
      argv.insert(argv.end(), words.begin(), words.end());
      return argv;
    }());
    CAPTURE(words, result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.err.starts_with("template parsing error: template: :1: "));
    CHECK(Contains(result.err, "Usage:  kim "));
  }
  const auto human = Kim({"history", "-H=maybe", "x"});
  CHECK(human.exit_code == 2);
  const auto unknown_short = Kim({"history", "-Z=1", "x"});
  CHECK(unknown_short.exit_code == 2);
  CHECK(Contains(unknown_short.err, "unknown shorthand flag: 'Z' in -Z=1"));
}
