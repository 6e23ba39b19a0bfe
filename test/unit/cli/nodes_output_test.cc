// Several nodes in the CLI's output: `kim images --all-nodes` (a NODE column, one row per image
// and node), --distribute values, and the distribution's progress and summary lines.
#include <catch2/catch.hpp>

#include <sstream>

#include "apps/kim/commands/nodes.h"
#include "apps/kim/output/distribute_progress.h"
#include "apps/kim/output/image_rows.h"

using namespace kim::cli;

namespace {

const std::string kIdA = "sha256:" + std::string(64, 'a');
const std::string kIdB = "sha256:" + std::string(64, 'b');
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::vector<NodeImages> TwoNodes() {
  const kim::Image app{.id = kIdA,
                       .repo_tags = {"docker.io/library/app:1"},
                       .size = 5'000'000,
                       .created = kNow - absl::Hours(1)};
  const kim::Image only_a{.id = kIdB,
                          .repo_tags = {"docker.io/library/tool:2"},
                          .size = 1'000,
                          .created = kNow - absl::Hours(2)};
  return {{.node = "node-b", .images = {app}}, {.node = "node-a", .images = {app, only_a}}};
}

std::string Render(const ImageListView& view) {
  std::ostringstream out;
  REQUIRE(WriteNodeImageList(TwoNodes(), view, kNow, out).ok());
  return out.str();
}

}  // namespace

TEST_CASE("images --all-nodes: a NODE column, a row per image and node", "[output][nodes]") {
  const std::string out = Render({.nodes = true});
  CHECK(out ==
        "NODE                IMAGE               TAG                 IMAGE ID            SIZE\n"
        "node-a              app                 1                   aaaaaaaaaaaa        5MB\n"
        "node-b              app                 1                   aaaaaaaaaaaa        5MB\n"
        "node-a              tool                2                   bbbbbbbbbbbb        1kB\n");
}

TEST_CASE("images --all-nodes: the Node field in templates and JSON, -q once per image",
          "[output][nodes]") {
  CHECK(Render({.format = "{{.Node}} {{.Repository}}:{{.Tag}}", .nodes = true}) ==
        "node-a app:1\nnode-b app:1\nnode-a tool:2\n");
  CHECK(Render({.format = "json", .nodes = true}).find("\"Node\":\"node-b\"") != std::string::npos);
  CHECK(Render({.quiet = true, .nodes = true}) == "aaaaaaaaaaaa\nbbbbbbbbbbbb\n");
}

TEST_CASE("one node's list has no Node in its JSON (as Docker's)", "[output][nodes]") {
  std::ostringstream out;
  REQUIRE(WriteImageList(TwoNodes()[0].images, {.format = "json"}, kNow, out).ok());
  CHECK(out.str().find("Node") == std::string::npos);
}

TEST_CASE("distribute targets: none, all, or node names", "[nodes]") {
  auto none = ParseDistributeTargets("none");
  REQUIRE(none.ok());
  CHECK(none->none());
  auto all = ParseDistributeTargets("all");
  REQUIRE(all.ok());
  CHECK(all->all);
  CHECK_FALSE(all->none());
  auto some = ParseDistributeTargets("node-a,node-b");
  REQUIRE(some.ok());
  CHECK(some->nodes == std::vector<std::string>{"node-a", "node-b"});
  for (const char* bad : {"", "node-a,", ",node-b", "a,,b"}) {
    INFO(bad);
    auto parsed = ParseDistributeTargets(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().message().find("--distribute") != std::string::npos);
  }
}

TEST_CASE("distribution progress lines, plain and with a bar", "[output][nodes]") {
  using Phase = kim::DistributeProgress::Phase;
  kim::DistributeProgress sending{.node = "node-b", .phase = Phase::kSending, .blobs_total = 5,
                                  .blobs_missing = 2, .bytes_total = 10'000'000,
                                  .bytes_sent = 5'000'000};
  CHECK(DistributeProgressPrinter::Line(sending, false) == "node-b: Sending 2 of 5 blobs (10MB)");
  const std::string bar = DistributeProgressPrinter::Line(sending);
  CHECK(bar.find("node-b: Sending 2 of 5 blobs [====================>") == 0);
  CHECK(bar.find("5MB/10MB") != std::string::npos);
  kim::DistributeProgress failed{.node = "node-b", .phase = Phase::kFailed, .error = "gone"};
  CHECK(DistributeProgressPrinter::Line(failed) == "node-b: Failed: gone");

  std::ostringstream plain;
  DistributeProgressPrinter printer(plain, /*tty=*/false);
  printer.Update(sending);
  sending.bytes_sent = 9'000'000;  // no new line for bytes alone
  printer.Update(sending);
  printer.Update({.node = "node-b", .phase = Phase::kDone});
  printer.Finish();
  CHECK(plain.str() == "node-b: Sending 2 of 5 blobs (10MB)\nnode-b: Done\n");
}

TEST_CASE("distribution summary per node", "[output][nodes]") {
  CHECK(DistributionSummary({.node = "n1", .blobs_total = 6, .blobs_sent = 3,
                             .bytes_sent = 2'100'000}) == "n1: 3 of 6 blobs sent (2.1MB)");
  CHECK(DistributionSummary({.node = "n1", .blobs_total = 6}) == "n1: up to date (6 blobs present)");
  CHECK(DistributionSummary({.node = "n1", .status = absl::UnavailableError("agent gone")}) ==
        "n1: failed: agent gone");
}
