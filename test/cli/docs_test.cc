// docs/cli.md holds the help of every command, exactly as the binary prints it. Regenerate it
// with scripts/gen-cli-docs after changing a command.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "apps/kim/commands/common.h"
#include "test/support/run_process.h"

namespace {

constexpr char kMarker[] = "<!-- generated: everything below comes from `kim ... --help` -->\n";

// The words of every command under `command`, depth first in the order of the tree.
void CollectPaths(const kim::cli::Command& command, std::vector<std::string> words,
                  std::vector<std::vector<std::string>>& paths) {
  paths.push_back(words);
  for (const auto& child : command.children()) {
    if (child->hidden || child->name == "help") continue;
    std::vector<std::string> next = words;
    next.push_back(child->name);
    CollectPaths(*child, next, paths);
  }
}

std::string GeneratedReference() {
  std::vector<std::vector<std::string>> paths;
  CollectPaths(*kim::cli::NewRootCommand(), {}, paths);
  std::string doc;
  for (const auto& words : paths) {
    std::vector<std::string> argv = {KIM_BINARY};
    argv.insert(argv.end(), words.begin(), words.end());
    argv.push_back("--help");
    const auto help = kim::test::Run(argv);
    REQUIRE(help.exit_code == 0);
    std::string title = "kim";
    for (const std::string& word : words) title += " " + word;
    doc += "\n## " + title + "\n\n```\n" + help.out + "```\n";
  }
  return doc;
}

}  // namespace

TEST_CASE("docs/cli.md matches the help of every command", "[cli][docs]") {
  const std::string path = KIM_SOURCE_DIR "/docs/cli.md";
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  const std::string doc = content.str();
  const size_t marker = doc.find(kMarker);
  const std::string generated = GeneratedReference();
  if (std::getenv("KIM_UPDATE_DOCS") != nullptr) {
    REQUIRE(marker != std::string::npos);
    std::ofstream(path) << doc.substr(0, marker) << kMarker << generated;
    SUCCEED("rewrote " << path);
    return;
  }
  REQUIRE(marker != std::string::npos);
  INFO("docs/cli.md is out of date: run scripts/gen-cli-docs");
  CHECK(doc.substr(marker + sizeof(kMarker) - 1) == generated);
}
