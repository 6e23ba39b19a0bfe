// Images made for a test: one random layer of a given size, loaded into containerd and pushed
// to a registry, and what a registry holds, asked over its HTTP API (not through kim's code).
#ifndef KIM_TEST_SUPPORT_TEST_IMAGES_H_
#define KIM_TEST_SUPPORT_TEST_IMAGES_H_

#include <string>

#include "kim/image_service.h"

namespace kim::test {

// Loads the image archive at `path` into `local`; fails the test when it cannot.
void LoadArchiveFile(ImageService& local, const std::string& path);

// Makes an image named `ref` whose one layer is `megabytes` MB of random bytes (uncompressed,
// test/support/image-archive) and loads it into `local`; returns the layer's digest. Fails the
// test when it cannot.
std::string LoadRandomImage(ImageService& local, const std::string& ref, int megabytes);

// LoadRandomImage, then pushes `ref` to its registry and removes it from `local` again (so that
// a pull has to fetch it). The layer goes as stored (uncompressed); returns its digest, the same
// in the registry.
std::string PushRandomImage(ImageService& local, const std::string& ref, int megabytes);

// The tags the registry at `registry` (HOST:PORT, plain HTTP) lists for `repository`; empty
// when the repository is unknown or has no tag.
std::string RegistryTags(const std::string& registry, const std::string& repository);

}  // namespace kim::test

#endif  // KIM_TEST_SUPPORT_TEST_IMAGES_H_
