// Docker-style image filters and image lookup (lib/images/image_filter.h).
#include <catch2/catch.hpp>

#include "lib/images/image_filter.h"

namespace {

const std::string kIdA = "sha256:" + std::string(64, 'a');
const std::string kIdAb = "sha256:ab" + std::string(62, '0');
const std::string kIdB = "sha256:" + std::string(64, 'b');

std::vector<kim::Image> Images() {
  return {
      {.id = kIdA,
       .repo_tags = {"docker.io/library/busybox:1", "docker.io/library/busybox:2",
                     "kim.test/app:1"},
       .repo_digests = {"docker.io/library/busybox@sha256:" + std::string(64, 'c')}},
      {.id = kIdAb, .repo_tags = {"docker.io/library/abc:latest"}},
      {.id = kIdB, .repo_tags = {}, .repo_digests = {"kim.test/none@sha256:" + std::string(64, 'd')}},
  };
}

}  // namespace

TEST_CASE("GlobMatch: star and question mark stop at slashes", "[images][filter]") {
  CHECK(kim::GlobMatch("busybox", "busybox"));
  CHECK_FALSE(kim::GlobMatch("busybox", "busybox2"));
  CHECK(kim::GlobMatch("busy*", "busybox"));
  CHECK(kim::GlobMatch("*", "busybox"));
  CHECK_FALSE(kim::GlobMatch("*", "a/b"));
  CHECK(kim::GlobMatch("*/*", "a/b"));
  CHECK(kim::GlobMatch("b?sybox", "busybox"));
  CHECK_FALSE(kim::GlobMatch("a?b", "a/b"));
  CHECK(kim::GlobMatch("*box:*", "busybox:1"));
  CHECK(kim::GlobMatch("a*b*c", "axxbyyc"));
  CHECK_FALSE(kim::GlobMatch("a*b*c", "axxbyy"));
  CHECK(kim::GlobMatch("\\*", "*"));
  CHECK_FALSE(kim::GlobMatch("\\*", "x"));
  CHECK(kim::GlobMatch("", ""));
  CHECK_FALSE(kim::GlobMatch("", "x"));
}

TEST_CASE("ReferenceMatchesFilter: familiar or full name, with or without tag",
          "[images][filter]") {
  const std::string busybox = "docker.io/library/busybox:1";
  CHECK(kim::ReferenceMatchesFilter("busybox", busybox));
  CHECK(kim::ReferenceMatchesFilter("busybox:1", busybox));
  CHECK_FALSE(kim::ReferenceMatchesFilter("busybox:2", busybox));
  CHECK(kim::ReferenceMatchesFilter("docker.io/library/busybox", busybox));
  CHECK(kim::ReferenceMatchesFilter("docker.io/library/busybox:1", busybox));
  CHECK(kim::ReferenceMatchesFilter("busy*", busybox));
  CHECK(kim::ReferenceMatchesFilter("busybox:?", busybox));
  CHECK_FALSE(kim::ReferenceMatchesFilter("bus", busybox));
  CHECK(kim::ReferenceMatchesFilter("kim.test/app", "kim.test/app:1"));
  CHECK_FALSE(kim::ReferenceMatchesFilter("app", "kim.test/app:1"));
  CHECK(kim::ReferenceMatchesFilter("kim.test/*", "kim.test/app:1"));
  CHECK(kim::ReferenceMatchesFilter("busybox", "docker.io/library/busybox@sha256:" +
                                                   std::string(64, 'c')));
  CHECK_FALSE(kim::ReferenceMatchesFilter("busybox", "not a reference"));
}

TEST_CASE("FilterImages keeps matching names only", "[images][filter]") {
  CHECK(kim::FilterImages(Images(), {}).size() == 3);

  auto busybox = kim::FilterImages(Images(), {"busybox"});
  REQUIRE(busybox.size() == 1);
  CHECK(busybox[0].id == kIdA);
  CHECK(busybox[0].repo_tags ==
        std::vector<std::string>{"docker.io/library/busybox:1", "docker.io/library/busybox:2"});
  CHECK(busybox[0].repo_digests.size() == 1);

  auto one = kim::FilterImages(Images(), {"busybox:2"});
  REQUIRE(one.size() == 1);
  CHECK(one[0].repo_tags == std::vector<std::string>{"docker.io/library/busybox:2"});
  // The digest of the matching tag's repository stays, for `--digests`.
  CHECK(one[0].repo_digests.size() == 1);

  auto app = kim::FilterImages(Images(), {"kim.test/app"});
  REQUIRE(app.size() == 1);
  CHECK(app[0].repo_tags == std::vector<std::string>{"kim.test/app:1"});
  CHECK(app[0].repo_digests.empty());

  auto untagged = kim::FilterImages(Images(), {"kim.test/none"});
  REQUIRE(untagged.size() == 1);
  CHECK(untagged[0].id == kIdB);

  auto either = kim::FilterImages(Images(), {"abc", "kim.test/app:1"});
  CHECK(either.size() == 2);
  CHECK(kim::FilterImages(Images(), {"nothing"}).empty());
}

TEST_CASE("FindImage: full ID, reference, then ID prefix", "[images][filter]") {
  const auto images = Images();
  auto by_id = kim::FindImage(images, kIdB);
  REQUIRE(by_id.ok());
  CHECK(by_id->index == 2);
  CHECK(by_id->reference.empty());
  auto bare = kim::FindImage(images, std::string(64, 'b'));
  REQUIRE(bare.ok());
  CHECK(bare->index == 2);

  auto by_tag = kim::FindImage(images, "busybox:2");
  REQUIRE(by_tag.ok());
  CHECK(by_tag->index == 0);
  CHECK(by_tag->reference == "docker.io/library/busybox:2");

  // "abc" is a repository name before it is an ID prefix (Docker's order).
  auto name_first = kim::FindImage(images, "abc");
  REQUIRE(name_first.ok());
  CHECK(name_first->index == 1);
  CHECK(name_first->reference == "docker.io/library/abc:latest");

  auto by_digest = kim::FindImage(images, "busybox@sha256:" + std::string(64, 'c'));
  REQUIRE(by_digest.ok());
  CHECK(by_digest->index == 0);
  CHECK(by_digest->reference == "docker.io/library/busybox@sha256:" + std::string(64, 'c'));

  auto prefix = kim::FindImage(images, "bbb");
  REQUIRE(prefix.ok());
  CHECK(prefix->index == 2);
  CHECK(prefix->reference.empty());
  auto prefixed = kim::FindImage(images, "sha256:aaaa");
  REQUIRE(prefixed.ok());
  CHECK(prefixed->index == 0);

  auto ambiguous = kim::FindImage(images, "a");
  CHECK(ambiguous.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ambiguous.status().message() == "image ID prefix \"a\" is ambiguous: it matches 2 images");

  auto unknown = kim::FindImage(images, "busybox:3");
  CHECK(unknown.status().code() == absl::StatusCode::kNotFound);
  CHECK(unknown.status().message() == "image \"busybox:3\": not found");
  CHECK(kim::FindImage(images, "cccc").status().code() == absl::StatusCode::kNotFound);
  CHECK(kim::FindImage(images, std::string(64, 'e')).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(kim::FindImage(images, "").status().code() == absl::StatusCode::kNotFound);
  auto malformed = kim::FindImage(images, "A:B:C");
  CHECK(malformed.status().code() == absl::StatusCode::kInvalidArgument);
}
