// image-archive (python) for the archive, libkim's Load and Push, curl for the registry's view.
#include "test/support/test_images.h"

#include <catch2/catch.hpp>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "test/support/run_process.h"
#include "test/support/temp_dir.h"

namespace kim::test {

void LoadArchiveFile(ImageService& local, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  auto loaded = local.Load([&in]() -> absl::StatusOr<std::string> {
    std::string piece(1 << 20, '\0');
    in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
    piece.resize(static_cast<size_t>(in.gcount()));
    return piece;
  });
  INFO(loaded.status());
  REQUIRE(loaded.ok());
}

std::string LoadRandomImage(ImageService& local, const std::string& ref, int megabytes) {
  TempDir dir;
  const std::string archive = dir / "image.tar";
  const auto made = Run({"/usr/bin/python3", KIM_SOURCE_DIR "/test/support/image-archive", "make",
                         archive, ref, absl::StrCat("--size-mb=", megabytes)});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  LoadArchiveFile(local, archive);
  return made.out.substr(0, made.out.find('\n'));
}

std::string PushRandomImage(ImageService& local, const std::string& ref, int megabytes) {
  const std::string layer = LoadRandomImage(local, ref, megabytes);
  // As stored: the registry's layer then has the digest returned (tests watch for it).
  PushOptions as_stored;
  as_stored.gzip_uncompressed_layers = false;
  auto pushed = local.Push(ref, as_stored);
  INFO(pushed.status());
  REQUIRE(pushed.ok());
  for (const RemoveResult& removed : local.Remove({ref}, false)) {
    INFO(removed.status);
    REQUIRE(removed.status.ok());
  }
  return layer;
}

std::string RegistryTags(const std::string& registry, const std::string& repository) {
  const auto listed = Run({"/usr/bin/curl", "-sS", "--max-time", "10",
                           absl::StrCat("http://", registry, "/v2/", repository, "/tags/list")});
  INFO(listed.err);
  REQUIRE(listed.exit_code == 0);
  // {"name":"repo","tags":["v1"]}, or {"errors":[{"code":"NAME_UNKNOWN",...}]}, or tags null
  const size_t tags = listed.out.find("\"tags\":[");
  if (tags == std::string::npos) return "";
  return listed.out.substr(tags + 8, listed.out.find(']', tags) - tags - 8);
}

}  // namespace kim::test
