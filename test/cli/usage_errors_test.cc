// Bad input: a clear message, the usage line, exit 2 for usage errors and 1 for bad values,
// never a crash.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "test/support/run_process.h"

using kim::test::Run;

namespace {

kim::test::ProcessOutput Kim(std::vector<std::string> words,
                             const std::map<std::string, std::string>& env = {}) {
  words.insert(words.begin(), KIM_BINARY);
  return Run(words, "", env);
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("kim tag with one argument is a usage error", "[cli][errors]") {
  const auto result = Kim({"tag", "onlyone"});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "\"kim tag\" requires at least 2 arguments.\nSee 'kim tag --help'.\n\n"
        "Usage:  kim tag SOURCE_REF TARGET_REF [TARGET_REF, ...]\n");
}

TEST_CASE("unknown flags are usage errors naming the flag", "[cli][errors]") {
  const auto images = Kim({"images", "--bogus"});
  CHECK(images.exit_code == 2);
  CHECK(Contains(images.err, "unknown flag: --bogus\n"));
  CHECK(Contains(images.err, "Usage:  kim images [OPTIONS] [REPOSITORY[:TAG]]\n"));
  const auto shorthand = Kim({"image", "build", "-Z", "."});
  CHECK(shorthand.exit_code == 2);
  CHECK(Contains(shorthand.err, "unknown shorthand flag: 'Z' in -Z"));
  // A flag of another command is unknown here.
  const auto foreign = Kim({"pull", "--tag", "x", "alpine"});
  CHECK(foreign.exit_code == 2);
  CHECK(Contains(foreign.err, "unknown flag: --tag"));
}

TEST_CASE("argument counts are checked with Docker's wording", "[cli][errors]") {
  const std::vector<std::tuple<std::vector<std::string>, std::string>> cases = {
      {{"pull"}, "\"kim pull\" requires exactly 1 argument."},
      {{"pull", "a", "b"}, "\"kim pull\" requires exactly 1 argument."},
      {{"push"}, "\"kim push\" requires exactly 1 argument."},
      {{"image", "build"}, "\"kim image build\" requires exactly 1 argument."},
      {{"rmi"}, "\"kim rmi\" requires at least 1 argument."},
      {{"images", "a", "b"}, "\"kim images\" accepts at most 1 argument."},
      {{"system", "install", "extra"}, "\"kim system install\" accepts no arguments."},
      {{"system", "login", "a", "b"}, "\"kim system login\" accepts at most 1 argument."},
  };
  for (const auto& [words, message] : cases) {
    const auto result = Kim(words);
    CAPTURE(words, result.err);
    CHECK(result.exit_code == 2);
    CHECK(Contains(result.err, message));
  }
}

TEST_CASE("unknown commands are usage errors", "[cli][errors]") {
  const auto result = Kim({"bogus"});
  CHECK(result.exit_code == 2);
  CHECK(Contains(result.err, "unknown command \"bogus\" for \"kim\""));
  const auto nested = Kim({"image", "frobnicate"});
  CHECK(nested.exit_code == 2);
  CHECK(Contains(nested.err, "unknown command \"frobnicate\" for \"kim image\""));
}

TEST_CASE("malformed image references give Docker's message and exit 1", "[cli][errors]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"UPPER/Case", "repository name (Case) must be lowercase"},
      {"a:b:c", "invalid reference \"a:b:c\": invalid reference format"},
      {"alpine:", "invalid reference format"},
      {"", "invalid reference \"\""},
      {"alpine@sha256:abc", "invalid"},
      {std::string(64, 'a'), "cannot specify 64-byte hexadecimal strings"},
  };
  for (const auto& [ref, message] : cases) {
    for (const char* command : {"pull", "push"}) {
      const auto result = Kim({command, ref});
      CAPTURE(command, ref, result.err);
      CHECK(result.exit_code == 1);
      CHECK(result.err.starts_with("Error: "));
      CHECK(Contains(result.err, message));
    }
  }
  const auto tag = Kim({"tag", "alpine", "Bad/Name"});
  CHECK(tag.exit_code == 1);
  CHECK(Contains(tag.err, "must be lowercase"));
  const auto digest_tag = Kim({"tag", "alpine", "app@sha256:" + std::string(64, '0')});
  CHECK(digest_tag.exit_code == 1);
  CHECK(Contains(digest_tag.err, "refusing to create a tag with a digest reference"));
  const auto rmi = Kim({"rmi", "good:1", "BAD"});
  CHECK(rmi.exit_code == 1);
  CHECK(Contains(rmi.err, "must be lowercase"));
}

TEST_CASE("bad flag values are reported before anything is contacted", "[cli][errors]") {
  const std::vector<std::tuple<std::vector<std::string>, std::string>> cases = {
      {{"pull", "--platform", "linux/bogusarch", "alpine"}, "bogusarch"},
      {{"images", "--format", "{{.Nope}}"}, "unknown field \".Nope\""},
      {{"images", "--format", "{{.Repository"}, "unclosed"},
      {{"build", "/nonexistent/ctx"}, "path \"/nonexistent/ctx\" not found"},
      {{"build", "-f", "/nonexistent/Dockerfile", "."}, "cannot read Dockerfile"},
      {{"system", "install", "--agent-port", "99999"}, "invalid port 99999"},
      {{"system", "install", "--timeout", "soon"}, "invalid --timeout \"soon\""},
      {{"system", "uninstall", "--timeout", "0s"}, "invalid --timeout \"0s\""},
  };
  for (const auto& [words, message] : cases) {
    const auto result = Kim(words);
    CAPTURE(words, result.err);
    CHECK(result.exit_code == 1);
    CHECK(Contains(result.err, message));
  }
  const auto not_int = Kim({"system", "install", "--agent-port", "abc"});
  CHECK(not_int.exit_code == 2);
  CHECK(Contains(not_int.err, "invalid argument \"abc\" for \"--agent-port\" flag"));
}

TEST_CASE("login checks its password flags like docker login", "[cli][errors]") {
  const auto both = Kim({"system", "login", "--password", "x", "--password-stdin", "-u", "me"});
  CHECK(both.exit_code == 2);
  CHECK(Contains(both.err, "--password and --password-stdin are mutually exclusive"));
  const auto no_user = Kim({"system", "login", "--password-stdin"});
  CHECK(no_user.exit_code == 2);
  CHECK(Contains(no_user.err, "must provide --username with --password-stdin"));
}

TEST_CASE("without a kubeconfig, cluster commands say how to give one and exit 1",
          "[cli][errors]") {
  const std::vector<std::vector<std::string>> commands = {
      {"images"}, {"pull", "alpine"}, {"push", "registry:5000/app:1"},
      {"tag", "alpine", "mine:1"}, {"rmi", "alpine", "0123456789ab"},
      {"build", "-t", "app:1", "--build-arg", "A=1,2", "."},
      {"system", "install"}, {"system", "uninstall"}, {"system", "info"},
      {"system", "logout"}};
  const std::string source_dir = KIM_SOURCE_DIR;
  // An empty home and no KUBECONFIG, backend addresses or in-cluster service account.
  char home_template[] = "/tmp/kim-empty-home-XXXXXX";
  const std::string home = mkdtemp(home_template);
  const std::map<std::string, std::string> env = {
      {"HOME", home}, {"KUBECONFIG", ""}, {"KUBERNETES_SERVICE_HOST", ""},
      {"KIM_CONTAINERD_SOCKET", ""}, {"KIM_AGENT_ADDR", ""}, {"KIM_BUILDKIT_ADDR", ""}};
  for (auto words : commands) {
    // build needs a Dockerfile to get as far as the backend.
    if (words.front() == "build") words.back() = source_dir + "/test/data/build-context";
    const auto result = Kim(words, env);
    CAPTURE(words, result.err);
    CHECK(result.exit_code == 1);
    CHECK(Contains(result.err, "no Kubernetes configuration found"));
    CHECK(Contains(result.err, "use --kubeconfig or set KUBECONFIG"));
    CHECK(result.out.empty());
  }
  const auto missing = Kim({"--kubeconfig", "/nonexistent/kc", "images"}, env);
  CHECK(missing.exit_code == 1);
  CHECK(Contains(missing.err, "kubeconfig \"/nonexistent/kc\": no such file"));
  rmdir(home.c_str());
}

TEST_CASE("backend flags fall back to their environment variables", "[cli][env]") {
  const auto socket = Kim({"images"}, {{"KIM_CONTAINERD_SOCKET", "/tmp/x.sock"}});
  CHECK(socket.exit_code == 1);
  CHECK(Contains(socket.err, "--containerd-socket"));
  const auto agent = Kim({"images"}, {{"KIM_AGENT_ADDR", "127.0.0.1:1"}});
  CHECK(agent.exit_code == 1);
  CHECK(Contains(agent.err, "cannot reach kim-agent at 127.0.0.1:1"));
  const auto buildkit = Kim({"build", KIM_SOURCE_DIR "/test/data/build-context"},
                            {{"KIM_BUILDKIT_ADDR", "tcp://127.0.0.1:1"}});
  CHECK(buildkit.exit_code == 1);
  CHECK(Contains(buildkit.err, "cannot reach buildkitd at tcp://127.0.0.1:1"));
  // A flag on the command line wins over the environment.
  const auto flag = Kim({"--agent-addr", "127.0.0.1:2", "images"},
                        {{"KIM_CONTAINERD_SOCKET", ""}, {"KIM_AGENT_ADDR", "127.0.0.1:1"}});
  CHECK(Contains(flag.err, "cannot reach kim-agent at 127.0.0.1:2"));
  const auto bad_tls = Kim({"--agent-addr", "127.0.0.1:2", "--tlscacert", "/no/ca.pem", "images"});
  CHECK(bad_tls.exit_code == 1);
  CHECK(Contains(bad_tls.err, "cannot read --tlscacert \"/no/ca.pem\""));
}

TEST_CASE("global flags work before and after the command", "[cli][flags]") {
  for (const std::vector<std::string>& words :
       {std::vector<std::string>{"-n", "other", "images", "--bogus"},
        std::vector<std::string>{"images", "-n", "other", "--bogus"},
        std::vector<std::string>{"--namespace=other", "image", "ls", "--bogus"}}) {
    const auto result = Kim(words);
    CAPTURE(words);
    CHECK(result.exit_code == 2);
    CHECK(Contains(result.err, "unknown flag: --bogus"));
    CHECK((Contains(result.err, "images") || Contains(result.err, "image ls")));
  }
}
