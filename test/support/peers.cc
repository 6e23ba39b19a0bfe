// Reading the peers' export lines.
#include "test/support/peers.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace kim::test {

std::string ReadTextFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  INFO("reading " << path);
  REQUIRE(file.good());
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  close(fd);
  return ntohs(address.sin_port);
}

std::string PeerEnv(const std::string& name) {
  if (const char* value = std::getenv(name.c_str()); value != nullptr && *value != '\0') {
    return value;
  }
  const char* env_file = std::getenv("KIM_PEERS_ENV");
  INFO(name << " is not set and KIM_PEERS_ENV names no file: start the peers with "
               "`eval \"$(scripts/peers up)\"` or run the test through ctest");
  REQUIRE(env_file != nullptr);
  std::istringstream lines(ReadTextFile(env_file));
  const std::string prefix = "export " + name + "=";
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(prefix)) continue;
    std::string value = line.substr(prefix.size());
    // scripts/peers quotes values with single quotes (shell-safe); undo that.
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  INFO("in " << env_file);
  FAIL(name << " is not exported by the peers");
  return "";
}

}  // namespace kim::test
