// kim: the Kubernetes Image Manager CLI. Installed as kubectl-image or kubectl-builder it runs
// as a kubectl plugin rooted at `image` or `system`.
#include <iostream>
#include <string>
#include <vector>

#include "apps/kim/commands/common.h"

int main(int argc, char** argv) {
  std::string program = argc > 0 ? argv[0] : "kim";
  program = program.substr(program.rfind('/') + 1);
  if (program.ends_with(".exe")) program.resize(program.size() - 4);

  std::unique_ptr<kim::cli::Command> root = kim::cli::NewRootCommand();
  kim::cli::Command* start = root.get();
  if (program == "kubectl-image" || program == "kubectl-builder") {
    const std::string word = program == "kubectl-image" ? "image" : "system";
    start = root->Find(word);
    start->SetDisplayName("kubectl " + program.substr(program.find('-') + 1));
  }
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  const int code = kim::cli::Execute(*start, args, std::cout, std::cerr);
  std::cout.flush();
  return code;
}
