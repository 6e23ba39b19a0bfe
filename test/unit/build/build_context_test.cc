// ResolveBuildInput (kim/build_context.h) and PrepareLocalContext (lib/build/build_context.h):
// the one place a build's context folder, `-f -` and `kim build -` are resolved.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "kim/build_context.h"
#include "lib/build/build_context.h"
#include "test/support/temp_dir.h"

using kim::BuildInput;
using kim::BuildOptions;
using kim::ResolveBuildInput;

namespace {

// A StdinReader over `data`.
kim::StdinReader FakeStdin(std::string data) {
  auto rest = std::make_shared<std::string>(std::move(data));
  return [rest](size_t limit) -> absl::StatusOr<std::string> {
    std::string chunk = rest->substr(0, std::min(limit, rest->size()));
    rest->erase(0, chunk.size());
    return chunk;
  };
}

}  // namespace

TEST_CASE("build context: a folder and its Dockerfile", "[build][context]") {
  kim::test::TempDir dir;
  dir.Write("Dockerfile", "FROM scratch\n");
  BuildOptions options;
  REQUIRE(ResolveBuildInput({.context = dir.path(), .dockerfile = ""}, &options).ok());
  CHECK(options.context_dir == dir.path());
  CHECK(options.dockerfile == dir.path() + "/Dockerfile");
  auto local = kim::build::PrepareLocalContext(options);
  REQUIRE(local.ok());
  CHECK(local->dockerfile_name == "Dockerfile");
  CHECK_FALSE(local->archive);

  BuildOptions missing;
  const absl::Status status =
      ResolveBuildInput({.context = dir.path() + "/nope", .dockerfile = ""}, &missing);
  CHECK(absl::IsInvalidArgument(status));
  CHECK(status.message().find("unable to prepare context: path") != std::string::npos);
  BuildOptions no_file;
  CHECK(ResolveBuildInput({.context = dir.path(), .dockerfile = dir.path() + "/Other"}, &no_file)
            .message()
            .find("cannot read Dockerfile") != std::string::npos);
}

TEST_CASE("build context: stdin holds a Dockerfile, an archive, or -f -", "[build][context]") {
  BuildOptions dockerfile;
  REQUIRE(ResolveBuildInput({.context = "-", .dockerfile = ""}, &dockerfile,
                            FakeStdin("FROM scratch\n"))
              .ok());
  CHECK(dockerfile.empty_context);
  CHECK(dockerfile.dockerfile == "-");
  CHECK(dockerfile.dockerfile_content == "FROM scratch\n");
  auto local = kim::build::PrepareLocalContext(dockerfile);
  REQUIRE(local.ok());
  CHECK(local->dockerfile_name == "Dockerfile");
  CHECK_FALSE(local->context_dir.empty());

  std::string gzip = "\x1f\x8b\x08";
  gzip += std::string(100, 'x');
  BuildOptions archive;
  REQUIRE(ResolveBuildInput({.context = "-", .dockerfile = "sub/Dockerfile"}, &archive,
                            FakeStdin(gzip))
              .ok());
  REQUIRE(archive.context_archive);
  std::string chunk;
  REQUIRE(*archive.context_archive(&chunk));
  CHECK(chunk == gzip);
  auto archived = kim::build::PrepareLocalContext(archive);
  REQUIRE(archived.ok());
  CHECK(archived->archive);
  CHECK(archived->dockerfile_name == "sub/Dockerfile");

  BuildOptions twice;
  CHECK(ResolveBuildInput({.context = "-", .dockerfile = "-"}, &twice, FakeStdin(""))
            .message()
            .find("can't use stdin for both") != std::string::npos);
  BuildOptions with_f;
  CHECK(absl::IsInvalidArgument(
      ResolveBuildInput({.context = "-", .dockerfile = "x"}, &with_f, FakeStdin("FROM a\n"))));
}
