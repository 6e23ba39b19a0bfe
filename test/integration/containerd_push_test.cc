// Push from containerd to the real registries: through ContainerdImageService in-process and
// through the kim CLI (local mode and via kim-agent), with credentials from a Docker config.
// (agent_transfer_test.cc pushes and pulls through the agent's library client too.)
// peers: containerd registry
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <mutex>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kim/reference.h"
#include "lib/images/containerd_image_service.h"
#include "lib/images/registry_client.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"
#include "test/support/test_agent.h"

using kim::test::PeerEnv;
using kim::test::Run;

namespace {

std::string Unique(const std::string& what) {
  return absl::StrCat(what, "-", getpid(), "-", absl::ToUnixMicros(absl::Now()) % 1000000000);
}

std::unique_ptr<kim::ImageService> Service() {
  auto service = kim::NewContainerdImageService({.socket = PeerEnv("KIM_TEST_CONTAINERD_SOCKET")});
  REQUIRE(service.ok());
  return *std::move(service);
}

// The manifest digest the registry holds for `ref`, asked through kim's registry client.
std::string RegistryDigest(const std::string& ref, const kim::RegistryCredentials& credentials = {}) {
  auto parsed = kim::ImageReference::ParseNormalized(ref);
  REQUIRE(parsed.ok());
  auto client = kim::RegistryClient::Create({.host = parsed->Domain(), .credentials = credentials});
  REQUIRE(client.ok());
  auto resolved = (*client)->Resolve(*parsed);
  INFO(resolved.status());
  REQUIRE(resolved.ok());
  return resolved->digest;
}

// A directory with a Docker config.json holding `auths` for one registry.
std::string DockerConfigDir(const std::string& registry, const std::string& user,
                            const std::string& password) {
  char dir_template[] = "/tmp/kim-docker-config-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  std::ofstream(dir + "/config.json")
      << "{\"auths\":{\"" << registry << "\":{\"auth\":\""
      << absl::Base64Escape(user + ":" + password) << "\"}}}";
  return dir;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("push: a tagged image goes to a new repository with the local digest", "[push]") {
  auto service = Service();
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY");
  const std::string seed = registry + "/busybox:2";
  auto pulled = service->Pull(seed, {});
  REQUIRE(pulled.ok());
  const std::string target = absl::StrCat(registry, "/", Unique("kimpush"), "/app:v1");
  REQUIRE(service->Tag(seed, {target}).ok());

  std::mutex mutex;
  std::vector<kim::BlobProgress> events;
  kim::PushOptions options;
  options.progress = [&](const kim::BlobProgress& progress) {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(progress);
  };
  auto digest = service->Push(target, options);
  INFO(digest.status());
  REQUIRE(digest.ok());
  CHECK(*digest == RegistryDigest(seed));  // the same manifest, byte for byte
  CHECK(RegistryDigest(target) == *digest);
  // The blobs were in the seed's repository: mounted (or already there), not uploaded again.
  REQUIRE(events.size() >= 3);  // two layers and the config
  bool all_final_without_upload = true;
  for (const auto& event : events) {
    if (event.state == kim::TransferState::kTransferring) all_final_without_upload = false;
  }
  CHECK(all_final_without_upload);
  bool mounted = false;
  for (const auto& event : events) mounted |= event.state == kim::TransferState::kMounted;
  CHECK(mounted);

  // A second push: every blob exists.
  auto again = service->Push(target, {});
  REQUIRE(again.ok());
  CHECK(*again == *digest);
  service->Remove({target}, false);
}

TEST_CASE("push: an image that is not there, and a registry that is not there", "[push]") {
  auto service = Service();
  const std::string missing = absl::StrCat(PeerEnv("KIM_TEST_REGISTRY"), "/", Unique("nope"), ":1");
  auto not_found = service->Push(missing, {});
  REQUIRE_FALSE(not_found.ok());
  CHECK(absl::IsNotFound(not_found.status()));
  CHECK(Contains(std::string(not_found.status().message()), "not found"));

  // Registry down: a clear error, and the image's local names untouched.
  const std::string seed = PeerEnv("KIM_TEST_REGISTRY") + "/hello:1";
  REQUIRE(service->Pull(seed, {}).ok());
  const std::string nowhere = absl::StrCat("127.0.0.1:1/", Unique("down"), ":1");
  REQUIRE(service->Tag(seed, {nowhere}).ok());
  const absl::Time started = absl::Now();
  auto down = service->Push(nowhere, {});
  REQUIRE_FALSE(down.ok());
  CHECK(absl::IsUnavailable(down.status()));
  CHECK(Contains(std::string(down.status().message()), "127.0.0.1:1"));
  CHECK(absl::Now() - started < absl::Seconds(10));
  auto still = service->Status(nowhere);
  CHECK(still.ok());
  service->Remove({nowhere}, false);
}

TEST_CASE("push and pull with Basic auth, credentials from a Docker config (CLI)", "[push][cli]") {
  // Both ways the CLI reaches a node: its containerd socket (local mode), and kim-agent, to
  // which the CLI sends the credentials it found.
  const bool through_agent = GENERATE(false, true);
  INFO((through_agent ? "through kim-agent" : "local mode"));
  std::unique_ptr<kim::test::TestAgent> agent;
  if (through_agent) agent = std::make_unique<kim::test::TestAgent>();
  const std::string socket = PeerEnv("KIM_TEST_CONTAINERD_SOCKET");
  const std::string plain = PeerEnv("KIM_TEST_REGISTRY");
  const std::string auth = PeerEnv("KIM_TEST_REGISTRY_AUTH");
  const std::string good = DockerConfigDir(auth, PeerEnv("KIM_TEST_REGISTRY_USER"),
                                           PeerEnv("KIM_TEST_REGISTRY_PASSWORD"));
  const std::string bad = DockerConfigDir(auth, PeerEnv("KIM_TEST_REGISTRY_USER"), "wrong");
  auto kim = [&](std::vector<std::string> words, const std::string& config) {
    if (agent) {
      words.insert(words.begin(), {KIM_BINARY, "--agent-addr", agent->address, "--tlscacert",
                                   agent->pki + "/ca.crt", "--tlscert", agent->pki + "/client.crt",
                                   "--tlskey", agent->pki + "/client.key"});
    } else {
      words.insert(words.begin(), {KIM_BINARY, "--containerd-socket", socket});
    }
    return Run(words, "", {{"DOCKER_CONFIG", config}, {"KIM_AGENT_ADDR", ""},
                           {"KIM_CONTAINERD_SOCKET", ""}});
  };

  REQUIRE(kim({"pull", plain + "/busybox:1"}, good).exit_code == 0);
  const std::string target = absl::StrCat(auth, "/", Unique("kimauth"), ":v1");
  REQUIRE(kim({"tag", plain + "/busybox:1", target}, good).exit_code == 0);

  const auto refused = kim({"push", target}, bad);
  CHECK(refused.exit_code == 1);
  CHECK(Contains(refused.err, "authentication required"));

  const auto pushed = kim({"push", target}, good);
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);
  CHECK(Contains(pushed.out, "The push refers to repository [" + target.substr(0, target.rfind(':')) + "]"));
  CHECK(Contains(pushed.out, ": Pushed\n"));  // piped: plain lines, one per blob state
  CHECK(Contains(pushed.out, "v1: digest: sha256:"));
  CHECK(Contains(pushed.out, RegistryDigest(target, {.username = PeerEnv("KIM_TEST_REGISTRY_USER"),
                                                     .password = PeerEnv("KIM_TEST_REGISTRY_PASSWORD")})));

  // Pull it back from the auth registry: with the config it works, without it is refused.
  REQUIRE(kim({"rmi", target}, good).exit_code == 0);
  const auto anonymous = kim({"pull", target}, "/nonexistent-docker-config");
  CHECK(anonymous.exit_code == 1);
  const auto pulled = kim({"pull", target}, good);
  INFO(pulled.err);
  CHECK(pulled.exit_code == 0);
  CHECK(Contains(pulled.out, "\n" + target + "\n"));
  kim({"rmi", target}, good);
  Run({"/bin/rm", "-rf", good, bad});
  if (agent) {  // the calls really went through the agent
    CHECK_FALSE(agent->daemon->WaitForLine("kim-agent: push " + target, 2).empty());
    CHECK_FALSE(agent->daemon->WaitForLine("kim-agent: pull " + target, 2).empty());
  }
}
