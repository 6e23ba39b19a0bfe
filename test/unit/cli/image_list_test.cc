// `kim images` rendering: rows, the original's table, -a, -q, --digests, --no-trunc, --format.
#include <catch2/catch.hpp>

#include <sstream>

#include "apps/kim/output/image_rows.h"
#include "apps/kim/output/table.h"

using namespace kim::cli;

namespace {

const std::string kIdA = "sha256:" + std::string(64, 'a');
const std::string kIdB = "sha256:" + std::string(64, 'b');
const std::string kIdC = "sha256:" + std::string(64, 'c');
const std::string kDigest = "sha256:" + std::string(64, 'd');
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::vector<kim::Image> Sample() {
  return {
      {.id = kIdA,
       .repo_tags = {"docker.io/library/alpine:3.19", "registry:5000/team/alpine:prod"},
       .repo_digests = {"docker.io/library/alpine@" + kDigest},
       .size = 7'380'000,
       .created = kNow - absl::Hours(72)},
      // Pulled by digest only: no tag (the original hid tagged images instead, its bug #54).
      {.id = kIdB,
       .repo_tags = {},
       .repo_digests = {"docker.io/library/busybox@" + kDigest},
       .size = 1'084'238,
       .created = kNow - absl::Minutes(5)},
      // Dangling: no names at all.
      {.id = kIdC, .size = 512, .created = absl::InfinitePast()},
  };
}

std::string Render(const ImageListView& view) {
  std::ostringstream out;
  REQUIRE(WriteImageList(Sample(), view, kNow, out).ok());
  return out.str();
}

}  // namespace

TEST_CASE("Table pads every column but the last to min 20 or width + 3", "[output]") {
  Table table;
  table.AddRow({"IMAGE", "TAG", "SIZE"});
  table.AddRow({"a-very-long-repository-name", "1", "5MB"});
  std::ostringstream out;
  table.Write(out);
  CHECK(out.str() ==
        "IMAGE                         TAG                 SIZE\n"
        "a-very-long-repository-name   1                   5MB\n");
}

TEST_CASE("rows: one per tag, familiar names, tag-less only with -a", "[output]") {
  const auto rows = ImageRows(Sample(), false);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].repository == "alpine");
  CHECK(rows[0].tag == "3.19");
  CHECK(rows[0].digest == kDigest);
  CHECK(rows[1].repository == "registry:5000/team/alpine");
  CHECK(rows[1].tag == "prod");
  CHECK(rows[1].digest == "<none>");

  const auto all = ImageRows(Sample(), true);
  REQUIRE(all.size() == 4);
  CHECK(all[0].repository == "busybox");  // newest first
  CHECK(all[0].tag == "<none>");
  CHECK(all[0].digest == kDigest);
  CHECK(all[3].repository == "<none>");  // unknown creation time sorts last
  CHECK(all[3].id == kIdC);
}

TEST_CASE("default table: the original's columns, short IDs, Docker sizes", "[output]") {
  const std::string table = Render({});
  CHECK(table ==
        "IMAGE                       TAG                 IMAGE ID            SIZE\n"
        "alpine                      3.19                aaaaaaaaaaaa        7.38MB\n"
        "registry:5000/team/alpine   prod                aaaaaaaaaaaa        7.38MB\n");
  const std::string digests = Render({.digests = true});
  CHECK(digests.starts_with("IMAGE                       TAG                 DIGEST"));
  CHECK(digests.find(kDigest) != std::string::npos);
  const std::string no_trunc = Render({.no_trunc = true});
  CHECK(no_trunc.find(kIdA) != std::string::npos);
}

TEST_CASE("images -q prints each image ID once", "[output]") {
  CHECK(Render({.quiet = true}) == "aaaaaaaaaaaa\n");
  CHECK(Render({.all = true, .quiet = true}) == "bbbbbbbbbbbb\naaaaaaaaaaaa\ncccccccccccc\n");
  CHECK(Render({.no_trunc = true, .quiet = true}) == kIdA + "\n");
}

TEST_CASE("images --format templates and json", "[output]") {
  CHECK(Render({.format = "{{.Repository}}:{{.Tag}}"}) ==
        "alpine:3.19\nregistry:5000/team/alpine:prod\n");
  CHECK(Render({.format = "{{.ID}} {{.CreatedSince}}"}) ==
        "aaaaaaaaaaaa 3 days ago\naaaaaaaaaaaa 3 days ago\n");
  const std::string json = Render({.format = "json"});
  CHECK(json.find("\"Repository\":\"alpine\"") != std::string::npos);
  CHECK(json.find("\"Size\":\"7.38MB\"") != std::string::npos);
  CHECK(std::count(json.begin(), json.end(), '\n') == 2);
  const std::string custom = Render({.format = "table {{.Repository}}\t{{.Size}}"});
  CHECK(custom.starts_with("IMAGE                       SIZE\n"));
  std::ostringstream out;
  CHECK_FALSE(WriteImageList(Sample(), {.format = "{{.Bogus}}"}, kNow, out).ok());
}
