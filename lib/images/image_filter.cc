// Docker-style image filters and image lookup.
#include "lib/images/image_filter.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "kim/digest.h"
#include "kim/reference.h"

namespace kim {
namespace {

constexpr std::string_view kSha256Prefix = "sha256:";

std::string_view WithoutAlgorithm(std::string_view id) {
  if (id.starts_with(kSha256Prefix)) id.remove_prefix(kSha256Prefix.size());
  return id;
}

std::string Quote(std::string_view text) { return absl::StrCat("\"", std::string(text), "\""); }

// The repository ("docker.io/library/busybox") of a fully qualified reference, or "" when it
// does not parse.
std::string RepositoryOf(std::string_view reference) {
  auto parsed = ImageReference::Parse(reference);
  return parsed.ok() ? parsed->Name() : "";
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matching with one backtrack point for the last '*' (it never crosses '/').
  size_t p = 0, t = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = p++;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      char want = pattern[p];
      size_t width = 1;
      bool any = false;
      if (want == '?') {
        any = true;
      } else if (want == '\\' && p + 1 < pattern.size()) {
        want = pattern[p + 1];
        width = 2;
      }
      if ((any && text[t] != '/') || (!any && want == text[t])) {
        p += width;
        ++t;
        continue;
      }
    }
    // Mismatch: let the last '*' swallow one more character, unless that is a '/'.
    if (star_p == std::string_view::npos || text[star_t] == '/') return false;
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ReferenceMatchesFilter(std::string_view pattern, std::string_view reference) {
  auto parsed = ImageReference::Parse(reference);
  if (!parsed.ok()) return false;
  for (const std::string& candidate : {parsed->FamiliarString(), parsed->FamiliarName(),
                                       parsed->String(), parsed->Name()}) {
    if (GlobMatch(pattern, candidate)) return true;
  }
  return false;
}

std::vector<Image> FilterImages(std::vector<Image> images,
                                const std::vector<std::string>& filters) {
  if (filters.empty()) return images;
  auto matches = [&filters](const std::string& reference) {
    return std::any_of(filters.begin(), filters.end(), [&](const std::string& pattern) {
      return ReferenceMatchesFilter(pattern, reference);
    });
  };
  std::vector<Image> kept;
  for (Image& image : images) {
    std::vector<std::string> tags;
    std::set<std::string> tag_repositories;
    for (const std::string& tag : image.repo_tags) {
      if (!matches(tag)) continue;
      tags.push_back(tag);
      tag_repositories.insert(RepositoryOf(tag));
    }
    std::vector<std::string> digests;
    for (const std::string& digest : image.repo_digests) {
      if (matches(digest) || tag_repositories.contains(RepositoryOf(digest))) {
        digests.push_back(digest);
      }
    }
    if (tags.empty() && digests.empty()) continue;
    image.repo_tags = std::move(tags);
    image.repo_digests = std::move(digests);
    kept.push_back(std::move(image));
  }
  return kept;
}

absl::StatusOr<ImageMatch> FindImage(const std::vector<Image>& images,
                                     std::string_view argument) {
  const auto not_found = absl::NotFoundError(absl::StrCat("image ", Quote(argument), ": not found"));
  if (argument.empty()) return not_found;

  if (IsFullImageId(argument)) {
    const std::string_view hex = WithoutAlgorithm(argument);
    for (size_t i = 0; i < images.size(); ++i) {
      if (WithoutAlgorithm(images[i].id) == hex) return ImageMatch{i, ""};
    }
    return not_found;
  }

  auto reference = ImageReference::ParseNormalized(argument);
  if (reference.ok()) {
    const ImageReference wanted = reference->WithDefaultTag();
    // "name:tag@digest" names the digest, as in Docker.
    const std::string canonical =
        wanted.HasDigest() ? wanted.NameOnly().WithDigest(*wanted.Digest()).String()
                           : wanted.String();
    for (size_t i = 0; i < images.size(); ++i) {
      const Image& image = images[i];
      const auto& names = wanted.HasDigest() ? image.repo_digests : image.repo_tags;
      if (std::find(names.begin(), names.end(), canonical) != names.end()) {
        return ImageMatch{i, canonical};
      }
    }
  }

  if (IsImageIdPrefix(argument)) {
    const std::string_view prefix = WithoutAlgorithm(argument);
    std::vector<size_t> found;
    for (size_t i = 0; i < images.size(); ++i) {
      if (WithoutAlgorithm(images[i].id).starts_with(prefix)) found.push_back(i);
    }
    if (found.size() == 1) return ImageMatch{found.front(), ""};
    if (found.size() > 1) {
      return absl::FailedPreconditionError(absl::StrCat("image ID prefix ", Quote(prefix),
                                                        " is ambiguous: it matches ",
                                                        found.size(), " images"));
    }
    return not_found;
  }
  if (!reference.ok()) return reference.status();
  return not_found;
}

}  // namespace kim
