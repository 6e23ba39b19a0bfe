// Docker's image prune filters and the CRI metadata that says which image a container uses.
#include <catch2/catch.hpp>

#include "kim/digest.h"
#include "lib/images/containerd_image_users.h"
#include "lib/images/prune_filter.h"

namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

absl::Time Civil(int y, int m, int d) {
  return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
}

}  // namespace

TEST_CASE("prune until= takes durations and Docker's timestamps", "[images][prune]") {
  CHECK(*kim::ParseUntil("24h", kNow) == kNow - absl::Hours(24));
  CHECK(*kim::ParseUntil("1h30m", kNow) == kNow - absl::Minutes(90));
  CHECK(*kim::ParseUntil("2021-05-06", kNow) == Civil(2021, 5, 6));
  CHECK(*kim::ParseUntil("2021-05-06T07:08:09Z", kNow) ==
        absl::FromCivil(absl::CivilSecond(2021, 5, 6, 7, 8, 9), absl::UTCTimeZone()));
  CHECK(*kim::ParseUntil("2021-05-06T07:08:09+02:00", kNow) ==
        absl::FromCivil(absl::CivilSecond(2021, 5, 6, 5, 8, 9), absl::UTCTimeZone()));
  CHECK(*kim::ParseUntil("1600000000", kNow) == absl::FromUnixSeconds(1600000000));
  CHECK(*kim::ParseUntil("1600000000.5", kNow) == absl::FromUnixMillis(1600000000500));
  for (const char* bad : {"", "yesterday", "24", "2021-13-01", "-5"}) {
    INFO(bad);
    // "24" is Unix second 24 (Docker reads it so too); the others fail.
    if (std::string(bad) == "24") continue;
    CHECK_FALSE(kim::ParseUntil(bad, kNow).ok());
  }
}

TEST_CASE("prune filters select by creation date and config labels", "[images][prune]") {
  auto none = kim::PruneFilter::Parse({}, kNow);
  REQUIRE(none.ok());
  CHECK(none->trivial());
  CHECK(none->Matches(absl::InfinitePast(), {}));

  auto until = kim::PruneFilter::Parse({"until=2021-06-01"}, kNow);
  REQUIRE(until.ok());
  CHECK(until->Matches(Civil(2021, 5, 6), {}));
  CHECK_FALSE(until->Matches(Civil(2021, 6, 2), {}));
  CHECK_FALSE(until->Matches(absl::InfinitePast(), {}));  // no date: never "older than"

  auto labels = kim::PruneFilter::Parse({"label=a", "label=b=1", "label!=c", "label!=d=2"}, kNow);
  REQUIRE(labels.ok());
  CHECK(labels->Matches(kNow, {{"a", "x"}, {"b", "1"}, {"d", "3"}}));
  CHECK_FALSE(labels->Matches(kNow, {{"b", "1"}}));                       // no a
  CHECK_FALSE(labels->Matches(kNow, {{"a", ""}, {"b", "2"}}));            // b is not 1
  CHECK_FALSE(labels->Matches(kNow, {{"a", ""}, {"b", "1"}, {"c", ""}})); // c present
  CHECK_FALSE(labels->Matches(kNow, {{"a", ""}, {"b", "1"}, {"d", "2"}}));

  for (const char* bad : {"dangling=true", "label=", "until=never", "nokey", "=x"}) {
    INFO(bad);
    auto parsed = kim::PruneFilter::Parse({bad}, kNow);
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(kim::PruneFilter::Parse({"dangling=true"}, kNow).status().message() ==
        "invalid filter 'dangling' (image prune takes until=, label= and label!=)");
}

TEST_CASE("config labels and CRI's container metadata", "[images][prune]") {
  CHECK(kim::ImageConfigLabels(R"({"config":{"Labels":{"a":"1","b":"x"}}})") ==
        std::map<std::string, std::string>{{"a", "1"}, {"b", "x"}});
  CHECK(kim::ImageConfigLabels(R"({"config":{"Labels":null}})").empty());
  CHECK(kim::ImageConfigLabels("not json").empty());
  CHECK(kim::CriMetadataImageRef(
            R"({"Version":"v1","Metadata":{"ID":"abc","ImageRef":"sha256:0123"}})") ==
        "sha256:0123");
  CHECK(kim::CriMetadataImageRef(R"({"Version":"v1","Metadata":{"ID":"abc"}})").empty());
  CHECK(kim::CriMetadataImageRef("garbage").empty());
}

TEST_CASE("chain IDs of image configs, as containerd names layer snapshots", "[images][prune]") {
  const std::string a = "sha256:" + std::string(64, 'a');
  const std::string b = "sha256:" + std::string(64, 'b');
  CHECK(kim::ImageConfigChainId(R"({"rootfs":{"type":"layers","diff_ids":[")" + a + R"("]}})") == a);
  CHECK(kim::ImageConfigChainId(R"({"rootfs":{"diff_ids":[")" + a + R"(",")" + b + R"("]}})") ==
        kim::DigestOf(a + " " + b).String());
  CHECK(kim::ImageConfigChainId(R"({"rootfs":{"diff_ids":[]}})").empty());
  CHECK(kim::ImageConfigChainId("{}").empty());
}
