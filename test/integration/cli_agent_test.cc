// The kim CLI through kim-agent over mutual TLS, against the real containerd and registry:
// images, pull, tag, rmi as a user types them; clients without the right certificate refused.
// peers: containerd registry
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>

#include <random>

#include "test/support/peers.h"
#include "test/support/run_process.h"
#include "test/support/test_agent.h"

using kim::test::Daemon;
using kim::test::PeerEnv;
using kim::test::ProcessOutput;
using kim::test::Run;

namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

using Agent = kim::test::TestAgent;

std::string UniqueName() {
  std::random_device random;
  return "kim-cli-test-" + std::to_string(random() % 1000000);
}

}  // namespace

TEST_CASE("kim through kim-agent: pull, images, tag, rmi", "[agent][cli]") {
  Agent agent;
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY");
  const std::string source = registry + "/hello:1";
  const std::string mine = "localhost/" + UniqueName() + ":v1";

  const auto pull = agent.Kim({"pull", source});
  INFO(pull.out << pull.err);
  REQUIRE(pull.exit_code == 0);
  CHECK(Contains(pull.out, "1: Pulling from hello"));
  CHECK(Contains(pull.out, "\n" + source + "\n"));

  const auto tag = agent.Kim({"tag", source, mine});
  INFO(tag.err);
  REQUIRE(tag.exit_code == 0);

  const auto images = agent.Kim({"images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"});
  REQUIRE(images.exit_code == 0);
  CHECK(Contains(images.out, source + " "));
  CHECK(Contains(images.out, mine + " "));

  const auto table = agent.Kim({"images"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.starts_with("IMAGE "));
  CHECK(Contains(table.out, "hello"));

  // The agent logs who changed what: the client certificate's subject with every mutating call.
  CHECK(Contains(agent.daemon->WaitForLine("kim-agent: tag ", 5), source + " as " + mine));
  const std::string log = agent.daemon->err();
  CHECK(Contains(log, "kim-agent: pull " + source + " by "));
  CHECK(Contains(log, "kim-test-client"));
  CHECK_FALSE(Contains(log, "kim-agent: list"));  // reads are not logged

  const auto rmi = agent.Kim({"rmi", mine});
  INFO(rmi.err);
  CHECK(rmi.exit_code == 0);
  CHECK(Contains(rmi.out, "Untagged: " + mine));
  const auto after = agent.Kim({"images", "--format", "{{.Repository}}:{{.Tag}}"});
  CHECK_FALSE(Contains(after.out, mine));
  CHECK(Contains(after.out, source));

  const auto unknown = agent.Kim({"rmi", "localhost/" + UniqueName() + ":nope"});
  CHECK(unknown.exit_code == 1);
  CHECK(Contains(unknown.err, "not found"));
}

TEST_CASE("kim-agent refuses clients without the right certificate", "[agent][tls]") {
  Agent agent;
  const auto anonymous = agent.Kim({"images"}, "");
  CHECK(anonymous.exit_code == 1);
  CHECK(Contains(anonymous.err, "cannot reach kim-agent at " + agent.address));
  const auto stranger = agent.Kim({"images"}, "other-client");
  CHECK(stranger.exit_code == 1);
  CHECK(Contains(stranger.err, "cannot reach kim-agent at " + agent.address));
  const auto friend_ = agent.Kim({"images"}, "client");
  CHECK(friend_.exit_code == 0);
}
