// Docker's rmi rules (lib/images/containerd_remove_plan.h).
#include <catch2/catch.hpp>

#include "lib/images/containerd_remove_plan.h"

namespace {

using Names = std::vector<std::string>;
const std::string kId = "sha256:0123456789ab" + std::string(52, 'f');
const std::string kDigest = "@sha256:" + std::string(64, 'd');

}  // namespace

TEST_CASE("PlanRemoval by tag: untag, and delete with the last tag", "[images][rmi]") {
  const kim::Image image{.id = kId,
                         .repo_tags = {"kim.test/a:1", "kim.test/a:2", "kim.test/b:1"},
                         .repo_digests = {"kim.test/a" + kDigest, "kim.test/b" + kDigest}};
  auto plan = kim::PlanRemoval(image, "kim.test/a:1", false);
  REQUIRE(plan.ok());
  CHECK(plan->untag == Names{"kim.test/a:1"});
  CHECK_FALSE(plan->delete_image);

  // b's last tag: b's digest goes with it, the image stays (a still tags it).
  plan = kim::PlanRemoval(image, "kim.test/b:1", false);
  REQUIRE(plan.ok());
  CHECK(plan->untag == Names{"kim.test/b:1", "kim.test/b" + kDigest});
  CHECK_FALSE(plan->delete_image);

  const kim::Image last{.id = kId,
                        .repo_tags = {"kim.test/a:1"},
                        .repo_digests = {"kim.test/a" + kDigest, "kim.test/b" + kDigest}};
  plan = kim::PlanRemoval(last, "kim.test/a:1", false);
  REQUIRE(plan.ok());
  CHECK(plan->untag == Names{"kim.test/a:1", "kim.test/a" + kDigest, "kim.test/b" + kDigest});
  CHECK(plan->delete_image);
}

TEST_CASE("PlanRemoval by digest reference", "[images][rmi]") {
  const kim::Image tagged{.id = kId, .repo_tags = {"kim.test/a:1"},
                          .repo_digests = {"kim.test/a" + kDigest}};
  auto plan = kim::PlanRemoval(tagged, "kim.test/a" + kDigest, false);
  REQUIRE(plan.ok());
  CHECK(plan->untag == Names{"kim.test/a" + kDigest});
  CHECK_FALSE(plan->delete_image);

  const kim::Image untagged{.id = kId, .repo_digests = {"kim.test/a" + kDigest}};
  plan = kim::PlanRemoval(untagged, "kim.test/a" + kDigest, false);
  REQUIRE(plan.ok());
  CHECK(plan->delete_image);
}

TEST_CASE("PlanRemoval by ID: everything, force for several repositories", "[images][rmi]") {
  const kim::Image one_repo{.id = kId, .repo_tags = {"kim.test/a:1", "kim.test/a:2"},
                            .repo_digests = {"kim.test/a" + kDigest}};
  auto plan = kim::PlanRemoval(one_repo, "", false);
  REQUIRE(plan.ok());
  CHECK(plan->untag == Names{"kim.test/a:1", "kim.test/a:2", "kim.test/a" + kDigest});
  CHECK(plan->delete_image);

  const kim::Image two_repos{.id = kId, .repo_tags = {"kim.test/a:1", "kim.test/b:1"}};
  auto refused = kim::PlanRemoval(two_repos, "", false);
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(refused.status().message() ==
        "conflict: unable to delete 0123456789ab (must be forced) - image is referenced in "
        "multiple repositories");
  plan = kim::PlanRemoval(two_repos, "", true);
  REQUIRE(plan.ok());
  CHECK(plan->untag == Names{"kim.test/a:1", "kim.test/b:1"});
  CHECK(plan->delete_image);

  const kim::Image nameless{.id = kId};
  plan = kim::PlanRemoval(nameless, "", false);
  REQUIRE(plan.ok());
  CHECK(plan->untag.empty());
  CHECK(plan->delete_image);
}
