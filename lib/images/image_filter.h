// Finding images the way the Docker CLI does: `docker images REPOSITORY[:TAG]` patterns, and
// the image an argument of `docker rmi` / `docker tag` / `docker inspect` names (reference, full
// ID or ID prefix). Pure logic over listed images; internal.
#ifndef KIM_LIB_IMAGES_IMAGE_FILTER_H_
#define KIM_LIB_IMAGES_IMAGE_FILTER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/image_service.h"

namespace kim {

// Go's path.Match for the wildcards `*` (any run of characters except '/') and `?` (one
// character except '/'); every other character, '[' included, matches itself, and `\` makes the
// next character literal. The whole of `text` must match.
bool GlobMatch(std::string_view pattern, std::string_view text);

// True when `reference` (fully qualified, as containerd lists it: "docker.io/library/busybox:1"
// or "host:5000/app@sha256:...") matches the `docker images` pattern REPOSITORY[:TAG]: the
// pattern is matched against the reference's familiar form ("busybox:1"), its familiar name
// ("busybox", so a pattern without tag matches every tag), and the same two fully qualified.
// A reference that does not parse matches nothing.
bool ReferenceMatchesFilter(std::string_view pattern, std::string_view reference);

// The images with at least one repo tag or repo digest matching any of `filters` (all images
// when `filters` is empty). Like Docker, each image keeps only the matching repo tags, and the
// repo digests that match or belong to a repository of a matching tag.
std::vector<Image> FilterImages(std::vector<Image> images, const std::vector<std::string>& filters);

// Which image an argument names, and how.
struct ImageMatch {
  size_t index = 0;  // into the images searched
  // The fully qualified reference that matched ("docker.io/library/busybox:latest",
  // "host/app@sha256:..."), or empty when the argument matched as an image ID or ID prefix.
  std::string reference;
};

// Finds the image `argument` names, trying in Docker's order: a full image ID (64 hex, with or
// without "sha256:"); a reference (normalised, ":latest" added when it has no tag or digest)
// among repo tags and repo digests; an image ID prefix. Returns
//   NotFound `image "x": not found` when nothing matches,
//   FailedPrecondition `image ID prefix "ab" is ambiguous: it matches 2 images`,
//   InvalidArgument (the reference parser's message) when `argument` is neither a valid
//   reference nor an ID prefix.
absl::StatusOr<ImageMatch> FindImage(const std::vector<Image>& images, std::string_view argument);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_IMAGE_FILTER_H_
