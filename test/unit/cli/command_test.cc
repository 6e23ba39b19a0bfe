// The command framework: lookup, flag parsing through cxxopts, defaults, environment, shadowing.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <set>
#include <sstream>

#include "apps/kim/cli/command.h"
#include "apps/kim/commands/common.h"

using namespace kim::cli;

namespace {

// A two-level tree whose leaf records what it was called with.
struct Tree {
  std::unique_ptr<Command> root = std::make_unique<Command>();
  Command* leaf = nullptr;
  Invocation seen;
  int calls = 0;

  Tree() {
    root->name = "app";
    root->persistent_flags = {
        {.name = "namespace", .shorthand = 'n', .type = FlagType::kString,
         .default_value = "kube-image", .env = "KIM_TEST_NS"},
        {.name = "debug", .type = FlagType::kBool},
    };
    auto group = std::make_unique<Command>();
    group->name = "image";
    auto leaf_command = std::make_unique<Command>();
    leaf_command->name = "build";
    leaf_command->aliases = {"b"};
    leaf_command->args = {.min = 1, .max = 1};
    leaf_command->flags = {
        {.name = "build-arg", .type = FlagType::kStringArray},
        {.name = "cache-to", .type = FlagType::kStringSlice},
        {.name = "tag", .shorthand = 't', .type = FlagType::kStringArray},
        {.name = "quiet", .shorthand = 'q', .type = FlagType::kBool},
        {.name = "port", .type = FlagType::kInt, .default_value = "1234"},
        {.name = "namespace", .type = FlagType::kString, .default_value = "shadowed"},
    };
    leaf_command->run = [this](Invocation& invocation) {
      seen = invocation;
      ++calls;
      return 7;
    };
    leaf = group->Add(std::move(leaf_command));
    root->Add(std::move(group));
  }

  int Run(const std::vector<std::string>& argv, std::string* err = nullptr) {
    std::ostringstream out, errors;
    const int code = Execute(*root, argv, out, errors);
    if (err != nullptr) *err = errors.str();
    return code;
  }
};

}  // namespace

TEST_CASE("Execute finds nested commands by name and alias", "[cli]") {
  Tree tree;
  CHECK(tree.Run({"image", "build", "ctx"}) == 7);
  CHECK(tree.seen.args == std::vector<std::string>{"ctx"});
  CHECK(tree.Run({"image", "b", "ctx2"}) == 7);
  CHECK(tree.seen.args == std::vector<std::string>{"ctx2"});
  CHECK(tree.calls == 2);
  CHECK(tree.leaf->Path() == "app image build");
  CHECK(tree.leaf->UseLine() == "app image build");
}

TEST_CASE("repeatable flags keep commas, slice flags split them", "[cli][flags]") {
  Tree tree;
  REQUIRE(tree.Run({"image", "build", "--build-arg", "A=1,2", "--build-arg=B=x,y", "-t", "a:1",
                    "-tb:2", "--cache-to", "x,y", "ctx"}) == 7);
  CHECK(tree.seen.flags.Strings("build-arg") == std::vector<std::string>{"A=1,2", "B=x,y"});
  CHECK(tree.seen.flags.Strings("tag") == std::vector<std::string>{"a:1", "b:2"});
  CHECK(tree.seen.flags.Strings("cache-to") == std::vector<std::string>{"x", "y"});
  CHECK(tree.seen.flags.Changed("build-arg"));
}

TEST_CASE("defaults, environment and explicit values, in that order of precedence", "[cli][flags]") {
  Tree tree;
  // The leaf's own --namespace shadows the root's persistent one (default "shadowed").
  REQUIRE(tree.Run({"image", "build", "ctx"}) == 7);
  CHECK(tree.seen.flags.String("namespace") == "shadowed");
  CHECK(tree.seen.flags.String("port") == "1234");
  CHECK_FALSE(tree.seen.flags.Changed("port"));
  CHECK_FALSE(tree.seen.flags.Bool("quiet"));

  // On a command without the shadowing flag, the root's env fallback applies.
  auto other = std::make_unique<Command>();
  other->name = "ls";
  Invocation ls_seen;
  other->run = [&](Invocation& invocation) {
    ls_seen = invocation;
    return 0;
  };
  tree.root->Add(std::move(other));
  REQUIRE(tree.Run({"ls"}) == 0);
  CHECK(ls_seen.flags.String("namespace") == "kube-image");
  setenv("KIM_TEST_NS", "from-env", 1);
  REQUIRE(tree.Run({"ls"}) == 0);
  CHECK(ls_seen.flags.String("namespace") == "from-env");
  CHECK_FALSE(ls_seen.flags.Changed("namespace"));
  REQUIRE(tree.Run({"-n", "from-flag", "ls"}) == 0);
  CHECK(ls_seen.flags.String("namespace") == "from-flag");
  CHECK(ls_seen.flags.Changed("namespace"));
  unsetenv("KIM_TEST_NS");
}

TEST_CASE("bool flags take grouped shorthands and explicit values", "[cli][flags]") {
  Tree tree;
  REQUIRE(tree.Run({"image", "build", "-q", "ctx"}) == 7);
  CHECK(tree.seen.flags.Bool("quiet"));
  REQUIRE(tree.Run({"image", "build", "--quiet=false", "ctx"}) == 7);
  CHECK_FALSE(tree.seen.flags.Bool("quiet"));
  REQUIRE(tree.Run({"image", "build", "-qt", "x:1", "ctx"}) == 7);
  CHECK(tree.seen.flags.Bool("quiet"));
  CHECK(tree.seen.flags.Strings("tag") == std::vector<std::string>{"x:1"});
}

TEST_CASE("a double dash ends flags, later words are arguments", "[cli][flags]") {
  Tree tree;
  REQUIRE(tree.Run({"image", "build", "--", "-weird-dir"}) == 7);
  CHECK(tree.seen.args == std::vector<std::string>{"-weird-dir"});
}

TEST_CASE("usage errors return 2 and never run the command", "[cli][errors]") {
  Tree tree;
  std::string err;
  CHECK(tree.Run({"image", "build", "--nope", "ctx"}, &err) == kExitUsage);
  CHECK(err.find("unknown flag: --nope") != std::string::npos);
  CHECK(tree.Run({"image", "build"}, &err) == kExitUsage);
  CHECK(err.find("\"app image build\" requires exactly 1 argument.") != std::string::npos);
  CHECK(tree.Run({"image", "build", "--port", "12x", "ctx"}, &err) == kExitUsage);
  CHECK(err.find("invalid argument \"12x\" for \"--port\" flag") != std::string::npos);
  CHECK(tree.Run({"image", "build", "ctx", "--tag"}, &err) == kExitUsage);
  CHECK(err.find("tag") != std::string::npos);
  CHECK(tree.Run({"image", "build", "-x", "ctx"}, &err) == kExitUsage);
  CHECK(err.find("unknown shorthand flag: 'x' in -x") != std::string::npos);
  CHECK(tree.calls == 0);
}

TEST_CASE("a group command without a run prints its help", "[cli][help]") {
  Tree tree;
  std::ostringstream out, err;
  CHECK(Execute(*tree.root, {"image"}, out, err) == kExitOk);
  CHECK(out.str().find("Available Commands:\n  build") != std::string::npos);
  CHECK(out.str().find("Use \"app image [command] --help\"") != std::string::npos);
}

TEST_CASE("the real tree has no duplicate flags or names", "[cli]") {
  std::unique_ptr<Command> root = NewRootCommand();
  std::vector<const Command*> pending = {root.get()};
  int commands = 0;
  while (!pending.empty()) {
    const Command* command = pending.back();
    pending.pop_back();
    ++commands;
    std::set<std::string> names;
    std::set<char> shorthands;
    for (const Flag& flag : command->AllFlags()) {
      INFO(command->Path() << " --" << flag.name);
      CHECK(names.insert(flag.name).second);
      if (flag.shorthand != 0) CHECK(shorthands.insert(flag.shorthand).second);
      CHECK_FALSE(flag.usage.empty());
    }
    std::set<std::string> words;
    for (const auto& child : command->children()) {
      CHECK(words.insert(child->name).second);
      for (const std::string& alias : child->aliases) CHECK(words.insert(alias).second);
      CHECK_FALSE(child->short_help.empty());
      pending.push_back(child.get());
    }
  }
  CHECK(commands == 34);  // kim, help, image + 12 (prune, distribute), system + 7 (prune, df),
                          // 10 shortcuts, completion
}
