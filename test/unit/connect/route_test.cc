// Tests for the pieces of --tunnel auto that need no cluster: the route cache file and the
// direct probe (lib/connect/route_cache.h, tcp_probe.h).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "lib/connect/route_cache.h"
#include "lib/connect/tcp_probe.h"

namespace kim {
namespace {

// A temporary $XDG_CACHE_HOME for one test.
struct CacheHome {
  CacheHome() {
    char templ[] = "/tmp/kim-route-test-XXXXXX";
    dir = mkdtemp(templ);
    setenv("XDG_CACHE_HOME", dir.c_str(), 1);
  }
  ~CacheHome() {
    unsetenv("XDG_CACHE_HOME");
    std::filesystem::remove_all(dir);
  }
  std::string dir;
};

TEST_CASE("route cache: remembers a route per key, in $XDG_CACHE_HOME/kim", "[connect][tunnel]") {
  CacheHome home;
  CHECK(RouteCachePath() == home.dir + "/kim/routes.json");
  CHECK_FALSE(ReadCachedRoute("ctx|https://a|kube-image").has_value());
  const absl::Time when = absl::FromUnixSeconds(1700000000);
  WriteCachedRoute("ctx|https://a|kube-image", {.route = "tunnel", .host = "10.0.0.5", .checked = when});
  WriteCachedRoute("other|https://b|kube-image", {.route = "direct", .host = "10.0.0.6", .checked = when});
  auto first = ReadCachedRoute("ctx|https://a|kube-image");
  REQUIRE(first.has_value());
  CHECK(first->route == "tunnel");
  CHECK(first->host == "10.0.0.5");
  CHECK(first->checked == when);
  auto second = ReadCachedRoute("other|https://b|kube-image");
  REQUIRE(second.has_value());
  CHECK(second->route == "direct");
  CHECK((std::filesystem::status(RouteCachePath()).permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
}

TEST_CASE("route cache: a damaged file reads as empty and is replaced", "[connect][tunnel]") {
  CacheHome home;
  std::filesystem::create_directories(home.dir + "/kim");
  std::ofstream(RouteCachePath()) << "{not json";
  CHECK_FALSE(ReadCachedRoute("k").has_value());
  WriteCachedRoute("k", {.route = "direct", .host = "h", .checked = absl::Now()});
  auto read = ReadCachedRoute("k");
  REQUIRE(read.has_value());
  CHECK(read->route == "direct");
  std::ofstream(RouteCachePath()) << R"({"k":{"route":"carrier-pigeon","host":"h"}})";
  CHECK_FALSE(ReadCachedRoute("k").has_value());
}

TEST_CASE("tcp probe: a listening port answers, a closed one is refused", "[connect][tunnel]") {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(listen(listener, 4) == 0);
  REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const int port = ntohs(address.sin_port);
  CHECK(ProbeTcp("127.0.0.1", port, absl::Seconds(2)).ok());
  close(listener);
  absl::Status refused = ProbeTcp("127.0.0.1", port, absl::Seconds(2));
  CHECK(refused.code() == absl::StatusCode::kUnavailable);
  CHECK(refused.message() == "127.0.0.1:" + std::to_string(port) + ": connection refused");
  CHECK(ProbeTcp("name.invalid", 80, absl::Seconds(2)).message().find("cannot resolve") == 0);
}

}  // namespace
}  // namespace kim
