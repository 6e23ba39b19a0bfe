// `kim inspect` JSON and `kim history` rows from an image's config.
#include <catch2/catch.hpp>

#include <sstream>

#include "absl/time/civil_time.h"
#include "apps/kim/output/go_json.h"
#include "apps/kim/output/history_rows.h"
#include "apps/kim/output/image_inspect.h"

using kim::ImageDetails;
using kim::cli::HistoryRows;
using kim::cli::HistoryView;
using kim::cli::InspectArray;
using kim::cli::InspectObject;
using kim::cli::WriteHistory;

namespace {

const std::string kId = "sha256:" + std::string(64, 'c');

ImageDetails Details() {
  ImageDetails details;
  details.image.id = kId;
  details.image.repo_tags = {"docker.io/library/app:1", "registry:5000/team/app:2"};
  details.image.repo_digests = {"docker.io/library/app@sha256:" + std::string(64, 'd')};
  details.image.size = 4096;
  details.image.created = absl::FromUnixSeconds(1620284889) + absl::Nanoseconds(123456789);
  details.config_json = R"({
    "architecture": "arm", "variant": "v7", "os": "linux", "author": "me",
    "created": "2021-05-06T07:08:09.123456789Z",
    "config": {"Labels": {"k": "v"}, "Cmd": ["sh", "-c", "a && b"], "Env": ["A=1"],
               "Zebra": 1, "User": "1000"},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:d1", "sha256:d2"]},
    "history": [
      {"created": "2021-05-06T07:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in / "},
      {"created": "2021-05-06T07:01:00Z", "created_by": "/bin/sh -c #(nop)  CMD [\"sh\"]", "empty_layer": true},
      {"created": "2021-05-06T07:08:09Z", "created_by": "RUN\tapk add x # buildkit", "comment": "buildkit.dockerfile.v0"}
    ]})";
  details.layers = {{.digest = "sha256:l1", .size = 1000, .diff_id = "sha256:d1"},
                    {.digest = "sha256:l2", .size = 2000, .diff_id = "sha256:d2",
                     .unpacked_size = 5000}};
  return details;
}

}  // namespace

TEST_CASE("inspect: Docker's keys, order and values from the config", "[inspect]") {
  auto object = InspectObject(Details());
  REQUIRE(object.ok());
  const std::string json = kim::cli::GoJson(*object);
  CHECK(json.starts_with(R"({"Id":")" + kId + R"(","RepoTags":["app:1","registry:5000/team/app:2"],)"
                         R"("RepoDigests":["app@sha256:)"));
  CHECK(json.find(R"("Parent":"","Comment":"","Created":"2021-05-06T07:08:09.123456789Z",)"
                  R"("DockerVersion":"","Author":"me","Config":{"User":"1000","Env":["A=1"],)"
                  R"("Cmd":["sh","-c","a && b"],"Labels":{"k":"v"},"Zebra":1},)"
                  R"("Architecture":"arm","Variant":"v7","Os":"linux","Size":4096,)"
                  R"("RootFS":{"Type":"layers","Layers":["sha256:d1","sha256:d2"]},)"
                  R"("Metadata":{"LastTagTime":"0001-01-01T00:00:00Z"}})") != std::string::npos);
  // No variant: no Variant key, as in Docker.
  ImageDetails amd64 = Details();
  amd64.config_json = R"({"architecture":"amd64","os":"linux","config":{}})";
  auto plain = InspectObject(amd64);
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->has_field("Variant"));
  ImageDetails broken = Details();
  broken.config_json = "not json";
  CHECK_FALSE(InspectObject(broken).ok());
}

TEST_CASE("inspect: the array is indented with four spaces, HTML escaped", "[inspect]") {
  auto object = InspectObject(Details());
  REQUIRE(object.ok());
  const std::string out = InspectArray({*object});
  CHECK(out.starts_with("[\n    {\n        \"Id\": \"" + kId + "\",\n        \"RepoTags\": [\n"
                        "            \"app:1\",\n"));
  CHECK(out.find("\"a \\u0026\\u0026 b\"") != std::string::npos);
  CHECK(out.ends_with("        }\n    }\n]\n"));
  CHECK(InspectArray({}) == "[]\n");
}

TEST_CASE("history: rows newest first, layers to the non-empty steps", "[history]") {
  const auto rows = HistoryRows(Details());
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].id == kId);
  CHECK(rows[1].id == "<missing>");
  CHECK(rows[2].id == "<missing>");
  CHECK(rows[0].created_by == "RUN\tapk add x # buildkit");
  CHECK(rows[0].size == 5000);  // unpacked size known
  CHECK(rows[1].size == 0);     // empty_layer
  CHECK(rows[2].size == 1000);  // compressed size: not unpacked
  CHECK(rows[0].comment == "buildkit.dockerfile.v0");
  CHECK(rows[2].created == absl::FromUnixSeconds(1620284400));
  ImageDetails no_history = Details();
  no_history.config_json = "{}";
  const auto layer_rows = HistoryRows(no_history);
  REQUIRE(layer_rows.size() == 2);
  CHECK(layer_rows[0].size == 5000);
  CHECK(layer_rows[0].id == kId);
}

TEST_CASE("history: Docker's table, -H=false, --no-trunc, -q, --format", "[history]") {
  const auto rows = HistoryRows(Details());
  const absl::Time now = absl::FromUnixSeconds(1620284889) + absl::Hours(3);
  auto write = [&](const HistoryView& view) {
    std::ostringstream out;
    REQUIRE(WriteHistory(rows, view, now, out).ok());
    return out.str();
  };
  const std::string table = write({});
  CHECK(table ==
        "IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT\n"
        "cccccccccccc   3 hours ago   RUN apk add x # buildkit                        5kB       buildkit.dockerfile.v0\n"
        "<missing>      3 hours ago   /bin/sh -c #(nop)  CMD [\"sh\"]                   0B        \n"
        // CREATED BY cut to 45 characters, the last one "…".
        "<missing>      3 hours ago   /bin/sh -c #(nop) ADD file:0123456789abcdef0…   1kB       \n");

  const std::string full = write({.no_trunc = true});
  CHECK(full.find(kId) != std::string::npos);
  CHECK(full.find("ADD file:0123456789abcdef0123456789abcdef in / ") != std::string::npos);

  const std::string raw = write({.human = false, .format = "{{.CreatedSince}} {{.Size}}"});
  CHECK(raw.find(" 5000\n") != std::string::npos);
  CHECK(raw.find(" 0\n") != std::string::npos);
  CHECK(raw.find("T07:08:09") != std::string::npos);

  CHECK(write({.quiet = true}) == "cccccccccccc\n<missing>\n<missing>\n");
  CHECK(write({.format = "{{.ID}}|{{.Comment}}"}) ==
        "cccccccccccc|buildkit.dockerfile.v0\n<missing>|\n<missing>|\n");
  CHECK(write({.format = "table {{.ID}}\\t{{.Size}}"}) ==
        "IMAGE          SIZE\ncccccccccccc   5kB\n<missing>      0B\n<missing>      1kB\n");
  CHECK(write({.format = "json"}).starts_with(
      R"({"Comment":"buildkit.dockerfile.v0","CreatedAt":")"));
  CHECK_FALSE(kim::cli::CheckHistoryFormat("{{.ID").ok());
}
