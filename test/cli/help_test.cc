// The help text: the seed README's sections, every command and flag, aliases, plugin mode.
#include <catch2/catch.hpp>

#include <regex>

#include "absl/strings/str_replace.h"
#include "test/support/run_process.h"

using kim::test::Run;

namespace {

std::string Help(std::vector<std::string> words) {
  std::vector<std::string> argv = {KIM_BINARY};
  argv.insert(argv.end(), words.begin(), words.end());
  argv.push_back("--help");
  const auto result = Run(argv);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.empty());
  return result.out;
}

// The position of `text` in `haystack`, failing the test when it is absent.
size_t PositionOf(const std::string& haystack, const std::string& text) {
  const size_t pos = haystack.find(text);
  INFO("looking for: " << text);
  CHECK(pos != std::string::npos);
  return pos;
}

}  // namespace

TEST_CASE("kim --help has the seed README's sections in order", "[cli][help]") {
  const std::string help = Help({});
  CHECK(help.starts_with("Kubernetes Image Manager -- in ur kubernetes buildin ur imagez\n"));
  const std::vector<std::string> sections = {
      "\nUsage:\n  kim [OPTIONS] COMMAND\n  kim [command]\n",
      "\nExamples:\n  kim image build --tag your/image:tag .\n",
      "\nAvailable Commands:\n  help        Help about any command\n"
      "  image       Manage Images\n  system      Manage KIM\n",
      "\nImages Shortcuts:\n  build       Build an image\n  images      List images\n"
      "  pull        Pull an image\n  push        Push an image\n  rmi         Remove an image\n"
      "  tag         Tag an image\n",
      "\nFlags:\n",
      "\nUse \"kim [command] --help\" for more information about a command.\n"};
  size_t last = 0;
  for (const std::string& section : sections) {
    const size_t pos = PositionOf(help, section);
    CHECK(pos >= last);
    last = pos;
  }
  for (const char* flag : {"  -x, --context string", "      --debug ", "      --debug-level int",
                           "  -h, --help ", "  -k, --kubeconfig string",
                           "  -n, --namespace string", "  -v, --version ",
                           "      --containerd-socket string", "      --agent-addr string",
                           "      --buildkit-addr string", "      --tlscacert string",
                           "      --tlscert string", "      --tlskey string"}) {
    PositionOf(help, flag);
  }
  PositionOf(help, "namespace (default \"kube-image\")");
}

TEST_CASE("kim with no arguments prints the root help", "[cli][help]") {
  const auto result = Run({KIM_BINARY});
  CHECK(result.exit_code == 0);
  CHECK(result.out == Help({}));
}

TEST_CASE("kim image build --help lists every build flag", "[cli][help]") {
  const std::string help = Help({"image", "build"});
  PositionOf(help, "Usage:\n  kim image build [OPTIONS] PATH | -\n");
  for (const char* flag :
       {"      --add-host stringArray", "      --build-arg stringArray",
        "      --cache-from stringArray", "  -f, --file string", "      --iidfile string",
        "      --label stringArray", "      --no-cache ", "  -o, --output stringArray",
        "      --platform stringArray", "      --progress string", "      --pull ",
        "      --push ", "  -q, --quiet ", "      --secret stringArray", "      --squash ",
        "      --ssh stringArray", "  -t, --tag stringArray", "      --target string"}) {
    PositionOf(help, flag);
  }
  PositionOf(help, "(default \"auto\")");
  PositionOf(help, "\nGlobal Flags:\n");
}

TEST_CASE("every image subcommand and shortcut has its flags", "[cli][help]") {
  struct Case {
    std::vector<std::string> words;
    std::string usage;
    std::vector<std::string> flags;
  };
  const std::vector<Case> cases = {
      {{"image", "ls"}, "kim image ls [OPTIONS] [REPOSITORY[:TAG]]",
       {"-a, --all", "--digests", "--format string", "--no-trunc", "-q, --quiet"}},
      {{"images"}, "kim images [OPTIONS] [REPOSITORY[:TAG]]",
       {"-a, --all", "--digests", "--format string", "--no-trunc", "-q, --quiet"}},
      {{"image", "pull"}, "kim image pull [OPTIONS] IMAGE", {"--platform string", "--cri"}},
      {{"pull"}, "kim pull [OPTIONS] IMAGE", {"--platform string"}},
      {{"push"}, "kim push [OPTIONS] IMAGE", {"--insecure"}},
      {{"image", "rm"}, "kim image rm [OPTIONS] IMAGE [IMAGE...]", {"-f, --force"}},
      {{"rmi"}, "kim rmi [OPTIONS] IMAGE [IMAGE...]", {"-f, --force"}},
      {{"tag"}, "kim tag SOURCE_REF TARGET_REF [TARGET_REF, ...]", {}},
      {{"build"}, "kim build [OPTIONS] PATH | -", {"-t, --tag stringArray", "--iidfile string"}},
      {{"system", "install"}, "kim system install [OPTIONS]",
       {"--force", "--selector string", "--no-wait", "--no-fail", "--endpoint-addr string",
        "--agent-image string", "--agent-port int", "--buildkit-image string",
        "--buildkit-port int", "--buildkit-socket string", "--containerd-socket string",
        "--containerd-volume string", "--timeout duration"}},
      {{"system", "uninstall"}, "kim system uninstall [OPTIONS]",
       {"--force", "--no-wait", "--timeout duration"}},
      {{"system", "login"}, "kim system login [OPTIONS] [SERVER]",
       {"-p, --password string", "--password-stdin", "-u, --username string"}},
      {{"system", "logout"}, "kim system logout [SERVER]", {}},
      {{"system", "info"}, "kim system info [OPTIONS]", {}},
  };
  for (const Case& c : cases) {
    const std::string help = Help(c.words);
    PositionOf(help, "Usage:\n  " + c.usage + "\n");
    for (const std::string& flag : c.flags) PositionOf(help, flag);
  }
}

TEST_CASE("shortcuts show their full path as an alias", "[cli][help]") {
  const std::vector<std::pair<std::string, std::string>> shortcuts = {
      {"build", "build, image build"}, {"images", "images, image ls"},
      {"pull", "pull, image pull"},    {"push", "push, image push"},
      {"rmi", "rmi, image rm"},        {"tag", "tag, image tag"}};
  for (const auto& [word, aliases] : shortcuts) {
    PositionOf(Help({word}), "\nAliases:\n  " + aliases + "\n");
  }
  PositionOf(Help({"image", "ls"}), "\nAliases:\n  ls, list\n");
  CHECK(Help({"image", "list"}) == Help({"image", "ls"}));
  CHECK(Help({"image", "remove"}) == Help({"image", "rm"}));
  CHECK(Help({"builder", "install"}) == Help({"system", "install"}));
}

TEST_CASE("install's own --containerd-socket shadows the global one", "[cli][help]") {
  const std::string help = Help({"system", "install"});
  const std::string globals = help.substr(PositionOf(help, "\nGlobal Flags:\n"));
  CHECK(globals.find("--containerd-socket") == std::string::npos);
  CHECK(globals.find("--kubeconfig") != std::string::npos);
  PositionOf(help, "(default on k3s \"/run/k3s/containerd/containerd.sock\")");
}

TEST_CASE("kim help COMMAND equals COMMAND --help", "[cli][help]") {
  const auto result = Run({KIM_BINARY, "help", "image", "build"});
  CHECK(result.exit_code == 0);
  CHECK(result.out == Help({"image", "build"}));
  const auto unknown = Run({KIM_BINARY, "help", "nonsense"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("Unknown help topic \"nonsense\"") != std::string::npos);
}

TEST_CASE("kubectl plugin mode roots the tree at image or system", "[cli][help][plugin]") {
  const struct {
    std::string program, word, display;
  } plugins[] = {{"kubectl-image", "image", "kubectl image"},
                 {"kubectl-builder", "system", "kubectl builder"}};
  for (const auto& plugin : plugins) {
    const auto as_plugin = Run({KIM_BINARY, "--help"}, "", {}, plugin.program);
    CHECK(as_plugin.exit_code == 0);
    const std::string expected =
        absl::StrReplaceAll(Help({plugin.word}), {{"kim " + plugin.word, plugin.display}});
    CHECK(as_plugin.out == expected);
    // A subcommand through the plugin matches the same subcommand through kim.
    const std::string sub = plugin.word == "image" ? "build" : "install";
    const auto sub_help = Run({KIM_BINARY, sub, "--help"}, "", {}, "/usr/local/bin/" + plugin.program);
    CHECK(sub_help.out ==
          absl::StrReplaceAll(Help({plugin.word, sub}), {{"kim " + plugin.word, plugin.display}}));
  }
  // The symlinks the build makes behave the same.
  const std::string dir = std::string(KIM_BINARY).substr(0, std::string(KIM_BINARY).rfind('/'));
  const auto link = Run({dir + "/kubectl-image", "--help"});
  CHECK(link.exit_code == 0);
  CHECK(link.out.find("Usage:\n  kubectl image [OPTIONS] COMMAND\n") != std::string::npos);
  CHECK(link.out.find("kubectl image build --tag your/image:tag .") != std::string::npos);
}
