// IsContextArchive (kim/build_service.h): how `kim build -` tells a context archive on stdin from
// a Dockerfile, checked on archives made by the real tar, gzip, bzip2 and xz.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "kim/build_service.h"
#include "test/support/temp_dir.h"

namespace fs = std::filesystem;
using kim::IsContextArchive;

namespace {

// The first KiB that `command` prints (run by the shell in a directory holding one file).
std::string HeaderOf(const std::string& command) {
  kim::test::TempDir dir;
  dir.Write("Dockerfile", "FROM scratch\nCOPY . /\n");
  FILE* pipe = popen(("cd '" + dir.path() + "' && " + command).c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string header(1024, '\0');
  header.resize(fread(header.data(), 1, header.size(), pipe));
  pclose(pipe);
  return header;
}

}  // namespace

TEST_CASE("context archive: tar and compressed tars are archives", "[context_archive]") {
  CHECK(IsContextArchive(HeaderOf("tar -cf - .")));
  CHECK(IsContextArchive(HeaderOf("tar --format=v7 -cf - Dockerfile")));
  CHECK(IsContextArchive(HeaderOf("tar --format=posix -cf - .")));
  CHECK(IsContextArchive(HeaderOf("tar -czf - .")));
  CHECK(IsContextArchive(HeaderOf("tar -cf - . | bzip2")));
  CHECK(IsContextArchive(HeaderOf("tar -cf - . | xz")));
}

TEST_CASE("context archive: Dockerfiles and broken headers are not", "[context_archive]") {
  CHECK_FALSE(IsContextArchive("FROM busybox\nRUN echo hi\n"));
  CHECK_FALSE(IsContextArchive(""));
  CHECK_FALSE(IsContextArchive(std::string(1024, '\0')));  // an empty archive's end blocks
  std::string tar = HeaderOf("tar -cf - .");
  REQUIRE(tar.size() >= 512);
  tar[0] = static_cast<char>(tar[0] ^ 1);  // the checksum no longer holds
  CHECK_FALSE(IsContextArchive(tar));
  CHECK_FALSE(IsContextArchive(tar.substr(0, 300)));  // shorter than a header
}
