// Docker's rmi rules over an image's names.
#include "lib/images/containerd_remove_plan.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "kim/digest.h"
#include "kim/reference.h"

namespace kim {
namespace {

std::string RepositoryOf(const std::string& reference) {
  auto parsed = ImageReference::Parse(reference);
  return parsed.ok() ? parsed->Name() : reference;
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

absl::StatusOr<RemovePlan> PlanRemoval(const Image& image, const std::string& reference,
                                       bool force) {
  RemovePlan plan;
  if (reference.empty()) {
    std::set<std::string> repositories;
    for (const auto& name : image.repo_tags) repositories.insert(RepositoryOf(name));
    for (const auto& name : image.repo_digests) repositories.insert(RepositoryOf(name));
    if (repositories.size() > 1 && !force) {
      return absl::FailedPreconditionError(
          absl::StrCat("conflict: unable to delete ", ShortImageId(image.id),
                       " (must be forced) - image is referenced in multiple repositories"));
    }
    plan.untag = image.repo_tags;
    plan.untag.insert(plan.untag.end(), image.repo_digests.begin(), image.repo_digests.end());
    plan.delete_image = true;
    return plan;
  }

  plan.untag.push_back(reference);
  std::vector<std::string> tags_left;
  for (const auto& tag : image.repo_tags) {
    if (tag != reference) tags_left.push_back(tag);
  }
  std::vector<std::string> digests_left;
  for (const auto& digest : image.repo_digests) {
    if (digest != reference) digests_left.push_back(digest);
  }

  if (Contains(image.repo_tags, reference)) {
    const std::string repository = RepositoryOf(reference);
    const bool repository_keeps_a_tag =
        std::any_of(tags_left.begin(), tags_left.end(),
                    [&](const std::string& tag) { return RepositoryOf(tag) == repository; });
    if (!repository_keeps_a_tag || tags_left.empty()) {
      std::vector<std::string> still_left;
      for (const auto& digest : digests_left) {
        if (tags_left.empty() || RepositoryOf(digest) == repository) {
          plan.untag.push_back(digest);
        } else {
          still_left.push_back(digest);
        }
      }
      digests_left = std::move(still_left);
    }
    plan.delete_image = tags_left.empty();
  } else {
    plan.delete_image = tags_left.empty() && digests_left.empty();
  }
  return plan;
}

}  // namespace kim
