// `kim system df`'s rows and the [y/N] prompt.
#include <catch2/catch.hpp>

#include <sstream>

#include "apps/kim/commands/prompt.h"
#include "apps/kim/output/disk_usage.h"

namespace {

kim::cli::DiskUsage Sample() {
  kim::cli::DiskUsage usage;
  usage.images = {{.id = "sha256:" + std::string(64, 'a'), .repo_tags = {"docker.io/library/a:1"},
                   .size = 3000000},
                  {.id = "sha256:" + std::string(64, 'b'), .size = 1000000}};
  usage.containers = {{"sha256:" + std::string(64, 'a'), 2}};
  usage.cache = std::vector<kim::BuildCacheRecord>{
      {.id = "r1", .in_use = true, .size = 100},
      {.id = "r2", .size = 2000},
      {.id = "r3", .shared = true, .size = 5000},
  };
  return usage;
}

}  // namespace

TEST_CASE("system df rows: images active by container, cache sizes without shared records",
          "[cli][df]") {
  const auto rows = kim::cli::DiskUsageRows(Sample());
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].at("Type") == "Images");
  CHECK(rows[0].at("TotalCount") == "2");
  CHECK(rows[0].at("Active") == "1");
  CHECK(rows[0].at("Size") == "4MB");
  CHECK(rows[0].at("Reclaimable") == "1MB (25%)");
  CHECK(rows[1].at("Type") == "Build Cache");
  CHECK(rows[1].at("TotalCount") == "3");
  CHECK(rows[1].at("Active") == "1");
  CHECK(rows[1].at("Size") == "2.1kB");
  CHECK(rows[1].at("Reclaimable") == "2kB");

  kim::cli::DiskUsage empty;
  const auto none = kim::cli::DiskUsageRows(empty);
  REQUIRE(none.size() == 1);  // no cache row when the builder was not asked
  CHECK(none[0].at("Reclaimable") == "0B");
}

// Docker's tabwriter settings for df: minimum width 10, padding 3.
TEST_CASE("system df table and --format", "[cli][df]") {
  std::ostringstream table;
  REQUIRE(kim::cli::WriteDiskUsage(Sample(), false, "", absl::Now(), table).ok());
  CHECK(table.str() ==
        "TYPE          TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"
        "Images        2         1         4MB       1MB (25%)\n"
        "Build Cache   3         1         2.1kB     2kB\n");
  std::ostringstream text;
  REQUIRE(kim::cli::WriteDiskUsage(Sample(), false, "{{.Type}}={{.Size}}", absl::Now(), text).ok());
  CHECK(text.str() == "Images=4MB\nBuild Cache=2.1kB\n");
  std::ostringstream bad;
  CHECK_FALSE(kim::cli::WriteDiskUsage(Sample(), false, "{{.Nope}}", absl::Now(), bad).ok());
}

TEST_CASE("the prompt accepts y or Y only", "[cli][prompt]") {
  for (const auto& [input, expected] : std::vector<std::pair<std::string, bool>>{
           {"y\n", true}, {"Y\n", true}, {"  y \n", true}, {"n\n", false}, {"yes\n", false},
           {"\n", false}, {"", false}}) {
    std::istringstream in(input);
    std::ostringstream out;
    INFO(input);
    CHECK(kim::cli::Confirm("Sure?", in, out) == expected);
    CHECK(out.str().starts_with("Sure? [y/N] "));
  }
}
