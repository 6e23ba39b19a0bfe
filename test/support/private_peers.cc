// scripts/peers run through the shell (std::system), its stdout and stderr kept in files.
#include "test/support/private_peers.h"

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kim::test {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace

PrivatePeers::PrivatePeers(const std::string& names) {
  char dir_template[] = "/tmp/kim-private-peers-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  scratch_ = dir_template;
  std::string out;
  Script("up " + names, 300, &out);
  std::istringstream lines(out);
  std::string line;
  // export NAME='VALUE'
  while (std::getline(lines, line)) {
    if (!absl::StartsWith(line, "export ")) continue;
    const size_t equals = line.find('=');
    if (equals == std::string::npos) continue;
    std::string value = line.substr(equals + 1);
    if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
    env_[line.substr(7, equals - 7)] = value;
  }
  REQUIRE(env_.contains("KIM_PEERS_DIR"));
}

PrivatePeers::~PrivatePeers() {
  if (env_.contains("KIM_PEERS_DIR")) {
    const std::string command = absl::StrCat("KIM_PEERS_QUIET=1 timeout 60 bash ", KIM_SOURCE_DIR,
                                             "/scripts/peers down '", env_["KIM_PEERS_DIR"], "'");
    (void)std::system(command.c_str());
  }
  (void)std::system(("rm -rf '" + scratch_ + "'").c_str());
}

std::string PrivatePeers::Env(const std::string& name) const {
  auto found = env_.find(name);
  INFO("private peers exported no " << name);
  REQUIRE(found != env_.end());
  return found->second;
}

void PrivatePeers::Kill(const std::string& name) {
  Script(absl::StrCat("kill ", name, " '", Env("KIM_PEERS_DIR"), "'"), 10);
}

void PrivatePeers::Restart(const std::string& name) {
  Script(absl::StrCat("restart ", name, " '", Env("KIM_PEERS_DIR"), "'"), 150);
}

void PrivatePeers::Script(const std::string& words, int seconds, std::string* out) {
  const std::string command =
      absl::StrCat("timeout ", seconds, " bash ", KIM_SOURCE_DIR, "/scripts/peers ", words, " >'",
                   scratch_, "/out' 2>'", scratch_, "/err'");
  const int status = std::system(command.c_str());
  INFO("scripts/peers " << words << " failed (status " << status << "):\n"
                        << Slurp(scratch_ + "/err"));
  REQUIRE(status == 0);
  if (out != nullptr) *out = Slurp(scratch_ + "/out");
}

}  // namespace kim::test
