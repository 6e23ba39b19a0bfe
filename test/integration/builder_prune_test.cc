// `kim builder prune` and the Build Cache row of `kim system df` against the real buildkitd
// v0.17.3 (containerd worker): the prompt, --keep-storage, --filter until=, -a, and the totals
// checked against BuildKit's own DiskUsage before and after.
// peers: buildkitd containerd registry
// lock: buildkitd-cache
//
// The buildkitd is shared with build_test.cc: a prune here may take cache a concurrent build
// would have reused, which costs that build time, not correctness.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <set>

#include <cpprest/json.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kim/build_service.h"
#include "kim/units.h"
#include "lib/build/buildkit_client.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"
#include "test/support/temp_dir.h"

using kim::test::PeerEnv;
using kim::test::ProcessOutput;
using kim::test::Run;
using kim::test::TempDir;

namespace {

std::unique_ptr<kim::BuildService> BuildKit() {
  auto service = kim::build::NewBuildKitService({.address = PeerEnv("KIM_TEST_BUILDKIT_SOCKET")});
  REQUIRE(service.ok());
  return *std::move(service);
}

std::vector<kim::BuildCacheRecord> Usage(kim::BuildService& buildkit) {
  auto records = buildkit.DiskUsage();
  INFO(records.status());
  REQUIRE(records.ok());
  return *records;
}

ProcessOutput Kim(std::vector<std::string> words, const std::string& input = "") {
  std::vector<std::string> argv = {KIM_BINARY, "--buildkit-addr",
                                   PeerEnv("KIM_TEST_BUILDKIT_SOCKET"), "--containerd-socket",
                                   PeerEnv("KIM_TEST_CONTAINERD_SOCKET")};
  argv.insert(argv.end(), words.begin(), words.end());
  ProcessOutput out = Run(argv, input, {{"KIM_CONTAINERD_SOCKET", ""}});
  INFO(out.out << out.err);
  return out;
}

// Builds a step with ~512 kB of output of its own (cache only, no image).
void BuildCache() {
  TempDir ctx;
  ctx.Write("Dockerfile", absl::StrCat("FROM ", PeerEnv("KIM_TEST_REGISTRY"), "/busybox:1\n",
                                       "RUN echo ", getpid(), absl::ToUnixMicros(absl::Now()),
                                       " > /id && dd if=/dev/urandom of=/blob bs=1024 count=512\n"));
  const auto built = Kim({"build", "-q", ctx.path()});
  INFO(built.out << built.err);
  REQUIRE(built.exit_code == 0);
}

std::set<std::string> Ids(const std::vector<kim::BuildCacheRecord>& records) {
  std::set<std::string> ids;
  for (const auto& record : records) ids.insert(record.id);
  return ids;
}

}  // namespace

TEST_CASE("builder prune: prompt, --keep-storage, until, then -a", "[prune][buildkitd]") {
  auto buildkit = BuildKit();
  BuildCache();
  const auto before = Usage(*buildkit);
  REQUIRE_FALSE(before.empty());

  const auto no = Kim({"builder", "prune"}, "n\n");
  CHECK(no.exit_code == 0);
  CHECK(no.out == "WARNING! This will remove all dangling build cache. Are you sure you want to "
                  "continue? [y/N] ");
  const auto no_all = Kim({"builder", "prune", "-a"}, "\n");
  CHECK(no_all.out == "WARNING! This will remove all build cache. Are you sure you want to "
                      "continue? [y/N] ");
  CHECK(Ids(Usage(*buildkit)) == Ids(before));

  // Everything is far below 100GB, and everything was used within the last 10 days.
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--keep-storage", "100GB"}, {"--filter", "until=240h"}}) {
    std::vector<std::string> words = {"builder", "prune", "-a", "-f"};
    words.insert(words.end(), flags.begin(), flags.end());
    const auto kept = Kim(words);
    CHECK(kept.exit_code == 0);
    CHECK(kept.out == "Total:\t0B\n");
  }
  CHECK(Ids(Usage(*buildkit)) == Ids(before));

  const auto pruned = Kim({"builder", "prune", "-a", "-f"});
  REQUIRE(pruned.exit_code == 0);
  CHECK(pruned.out.starts_with("ID "));
  CHECK(absl::StrContains(pruned.out, "RECLAIMABLE"));
  CHECK(absl::StrContains(pruned.out, "LAST ACCESSED\n"));
  const auto after = Usage(*buildkit);
  const std::set<std::string> left = Ids(after);
  double removed = 0;
  for (const auto& record : before) {
    if (left.contains(record.id)) continue;
    removed += static_cast<double>(record.size);
    CHECK(absl::StrContains(pruned.out, record.id));
  }
  CHECK(removed > 500 * 1024);
  CHECK(pruned.out.ends_with("Total:\t" + kim::HumanSize(removed) + "\n"));
  for (const auto& record : after) CHECK(record.in_use);

  const auto bad = Kim({"builder", "prune", "-f", "--filter", "type=regular"});
  CHECK(bad.exit_code == 1);
  CHECK(absl::StrContains(bad.err, "invalid filter 'type=regular'"));
  const auto bad_size = Kim({"builder", "prune", "-f", "--keep-storage", "lots"});
  CHECK(bad_size.exit_code == 1);
}

TEST_CASE("system df: the Build Cache row is BuildKit's DiskUsage", "[df][buildkitd]") {
  auto buildkit = BuildKit();
  BuildCache();
  const auto df = Kim({"system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|"
                                                   "{{.Size}}|{{.Reclaimable}}"});
  const auto records = Usage(*buildkit);
  REQUIRE(df.exit_code == 0);
  CHECK(df.err.empty());
  double size = 0, reclaimable = 0;
  int active = 0;
  for (const auto& record : records) {
    active += record.in_use;
    if (record.shared) continue;
    size += static_cast<double>(record.size);
    if (!record.in_use) reclaimable += static_cast<double>(record.size);
  }
  CHECK(absl::StrContains(df.out, absl::StrCat("\nBuild Cache|", records.size(), "|", active, "|",
                                               kim::HumanSize(size), "|",
                                               kim::HumanSize(reclaimable), "\n")));
  const auto verbose = Kim({"system", "df", "-v"});
  REQUIRE(verbose.exit_code == 0);
  CHECK(absl::StrContains(verbose.out, "\nBuild cache usage: " + kim::HumanSize(size) + "\n"));
  CHECK(absl::StrContains(verbose.out, "CACHE ID"));
  CHECK(absl::StrContains(verbose.out, records.front().id.substr(0, 12)));
}

TEST_CASE("DiskUsage decodes every record field as buildctl du does", "[df][buildkitd]") {
  auto buildkit = BuildKit();
  BuildCache();
  const auto records = Usage(*buildkit);
  const auto du = Run({PeerEnv("KIM_TEST_BUILDCTL"), "--addr", PeerEnv("KIM_TEST_BUILDKIT_SOCKET"),
                       "du", "--format", "{{json .}}"});
  INFO(du.out << du.err);
  REQUIRE(du.exit_code == 0);
  const web::json::value theirs = web::json::value::parse(du.out);
  REQUIRE(theirs.is_array());
  std::map<std::string, web::json::value> by_id;
  for (const web::json::value& record : theirs.as_array()) {
    by_id[record.at("id").as_string()] = record;
  }
  CHECK(by_id.size() == records.size());
  for (const kim::BuildCacheRecord& record : records) {
    INFO(record.id);
    REQUIRE(by_id.contains(record.id));
    const web::json::value& other = by_id[record.id];
    CHECK(record.size == other.at("size").as_number().to_int64());
    CHECK(record.in_use == other.at("inUse").as_bool());
    CHECK(record.shared == other.at("shared").as_bool());
    CHECK(record.is_mutable == other.at("mutable").as_bool());
    CHECK(record.type == other.at("recordType").as_string());
    CHECK(record.usage_count == other.at("usageCount").as_number().to_int64());
    CHECK(record.description == (other.has_field("description") ? other.at("description").as_string()
                                                                 : std::string()));
    std::vector<std::string> parents;
    if (other.at("parents").is_array()) {
      for (const auto& parent : other.at("parents").as_array()) parents.push_back(parent.as_string());
    }
    CHECK(record.parents == parents);
    absl::Time created;
    std::string error;
    REQUIRE(absl::ParseTime(absl::RFC3339_full, other.at("createdAt").as_string(), &created, &error));
    CHECK(record.created == created);
  }
}
