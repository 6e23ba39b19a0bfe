// Unit tests for kim::Platform: containerd's specifier syntax, normalisation of architecture
// aliases and variants, error texts, and variant-aware matching.
#include "kim/platform.h"

#include <catch2/catch.hpp>

#include <string>

namespace kim {
namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST_CASE("ParsePlatform normalises full specifiers", "[core][platform]") {
  struct Row {
    std::string specifier;
    std::string want;  // String() of the parsed platform.
  };
  auto row = GENERATE_COPY(values<Row>({
      {"linux/amd64", "linux/amd64"},
      {"linux/x86_64", "linux/amd64"},
      {"linux/x86-64", "linux/amd64"},
      {"Linux/AMD64", "linux/amd64"},
      {"linux/amd64/v1", "linux/amd64"},
      {"linux/amd64/v3", "linux/amd64/v3"},
      {"linux/arm64", "linux/arm64"},
      {"linux/aarch64", "linux/arm64"},
      {"linux/arm64/v8", "linux/arm64"},
      {"linux/arm64/8", "linux/arm64"},
      {"linux/arm64/9", "linux/arm64/v9"},
      {"linux/arm", "linux/arm/v7"},
      {"linux/arm/v7", "linux/arm/v7"},
      {"linux/arm/7", "linux/arm/v7"},
      {"linux/arm/v6", "linux/arm/v6"},
      {"linux/arm/6", "linux/arm/v6"},
      {"linux/arm/5", "linux/arm/v5"},
      {"linux/armhf", "linux/arm/v7"},
      {"linux/armel", "linux/arm/v6"},
      {"linux/i386", "linux/386"},
      {"linux/386", "linux/386"},
      {"linux/s390x", "linux/s390x"},
      {"linux/ppc64le", "linux/ppc64le"},
      {"linux/riscv64", "linux/riscv64"},
      {"windows/amd64", "windows/amd64"},
      {"darwin/arm64", "darwin/arm64"},
      {"macos/arm64", "darwin/arm64"},
      {"freebsd/amd64", "freebsd/amd64"},
      // A single architecture runs on linux.
      {"arm64", "linux/arm64"},
      {"aarch64", "linux/arm64"},
      {"amd64", "linux/amd64"},
      {"x86_64", "linux/amd64"},
      {"armhf", "linux/arm/v7"},
      {"armel", "linux/arm/v6"},
      {"arm", "linux/arm/v7"},
      {"i386", "linux/386"},
      {"S390X", "linux/s390x"},
  }));
  CAPTURE(row.specifier);
  absl::StatusOr<Platform> p = ParsePlatform(row.specifier);
  INFO((p.ok() ? std::string("ok") : Message(p.status())));
  REQUIRE(p.ok());
  CHECK(p->String() == row.want);
  // Normalisation is idempotent: the parsed form parses to itself.
  absl::StatusOr<Platform> again = ParsePlatform(p->String());
  REQUIRE(again.ok());
  CHECK(*again == *p);
  CHECK(NormalizePlatform(*p) == *p);
}

TEST_CASE("ParsePlatform gives a lone operating system the host architecture",
          "[core][platform]") {
  Platform host = HostPlatform();
  auto os = GENERATE(as<std::string>(), "linux", "Linux", "windows", "darwin");
  CAPTURE(os);
  absl::StatusOr<Platform> p = ParsePlatform(os);
  REQUIRE(p.ok());
  CHECK(p->os == NormalizePlatform(Platform{os, "amd64", ""}).os);
  CHECK(p->architecture == host.architecture);
  CHECK(p->variant == host.variant);
}

TEST_CASE("ParsePlatform refuses bad specifiers with containerd's messages", "[core][platform]") {
  struct Row {
    std::string specifier;
    std::string message;
  };
  const std::string kComponent = ": platform specifier component must match "
                                 "\"^[A-Za-z0-9_-]+$\": invalid argument";
  const std::string kUnknown = ": unknown operating system or architecture: invalid argument";
  auto row = GENERATE_COPY(values<Row>({
      {"", "\"\" is an invalid component of \"\"" + kComponent},
      {"linux/", "\"\" is an invalid component of \"linux/\"" + kComponent},
      {"/amd64", "\"\" is an invalid component of \"/amd64\"" + kComponent},
      {"linux//amd64", "\"\" is an invalid component of \"linux//amd64\"" + kComponent},
      {"linux/amd64 ", "\"amd64 \" is an invalid component of \"linux/amd64 \"" + kComponent},
      {" linux/amd64", "\" linux\" is an invalid component of \" linux/amd64\"" + kComponent},
      {"linux/arm64/v9.0", "\"v9.0\" is an invalid component of \"linux/arm64/v9.0\"" + kComponent},
      {"linux:amd64", "\"linux:amd64\" is an invalid component of \"linux:amd64\"" + kComponent},
      {"foo/bar", "\"foo/bar\"" + kUnknown},
      {"linux/foo", "\"linux/foo\"" + kUnknown},
      {"foo/amd64", "\"foo/amd64\"" + kUnknown},
      {"foo", "\"foo\"" + kUnknown},
      {"x86", "\"x86\"" + kUnknown},
      {"linux/amd64/v3/extra",
       "\"linux/amd64/v3/extra\": cannot parse platform specifier: invalid argument"},
      {"a/b/c/d/e", "\"a/b/c/d/e\": cannot parse platform specifier: invalid argument"},
      {"linux/*", "\"linux/*\": wildcards not yet supported: invalid argument"},
      {"*", "\"*\": wildcards not yet supported: invalid argument"},
  }));
  CAPTURE(row.specifier);
  absl::StatusOr<Platform> p = ParsePlatform(row.specifier);
  REQUIRE_FALSE(p.ok());
  CHECK(absl::IsInvalidArgument(p.status()));
  CHECK(Message(p.status()) == row.message);
}

TEST_CASE("HostPlatform is a known linux platform", "[core][platform]") {
  Platform host = HostPlatform();
  CHECK(host.os == "linux");
  CHECK_FALSE(host.architecture.empty());
  CHECK(NormalizePlatform(host) == host);
  absl::StatusOr<Platform> reparsed = ParsePlatform(host.String());
  REQUIRE(reparsed.ok());
  CHECK(*reparsed == host);
#if defined(__x86_64__)
  CHECK(host.String() == "linux/amd64");
#elif defined(__aarch64__)
  CHECK(host.String() == "linux/arm64");
#endif
}

TEST_CASE("Platform::String includes the variant only when present", "[core][platform]") {
  CHECK(Platform{"linux", "amd64", ""}.String() == "linux/amd64");
  CHECK(Platform{"linux", "arm", "v7"}.String() == "linux/arm/v7");
  CHECK(Platform{"windows", "amd64", ""}.String() == "windows/amd64");
}

TEST_CASE("NormalizePlatform resolves aliases without validating", "[core][platform]") {
  CHECK(NormalizePlatform({"Linux", "AArch64", "V8"}) == Platform{"linux", "arm64", ""});
  CHECK(NormalizePlatform({"linux", "armv7l", ""}) == Platform{"linux", "arm", "v7"});
  CHECK(NormalizePlatform({"linux", "armv6l", ""}) == Platform{"linux", "arm", "v6"});
  CHECK(NormalizePlatform({"linux", "i386", "whatever"}) == Platform{"linux", "386", ""});
  CHECK(NormalizePlatform({"plan10", "z80", "v1"}) == Platform{"plan10", "z80", "v1"});
}

TEST_CASE("Platform::Matches is variant-aware and symmetric", "[core][platform]") {
  struct Row {
    Platform a;
    Platform b;
    bool match;
  };
  auto row = GENERATE(values<Row>({
      {{"linux", "arm64", ""}, {"linux", "arm64", "v8"}, true},
      {{"linux", "aarch64", ""}, {"linux", "arm64", "v8"}, true},
      {{"linux", "arm64", ""}, {"linux", "arm64", "v9"}, false},
      {{"linux", "arm", ""}, {"linux", "arm", "v7"}, true},
      {{"linux", "armhf", ""}, {"linux", "arm", "v7"}, true},
      {{"linux", "arm", "v6"}, {"linux", "arm", "v7"}, false},
      {{"linux", "armel", ""}, {"linux", "arm", "v6"}, true},
      {{"linux", "amd64", ""}, {"linux", "amd64", "v1"}, true},
      {{"linux", "amd64", "v2"}, {"linux", "amd64", ""}, false},
      {{"Linux", "x86_64", ""}, {"linux", "amd64", ""}, true},
      {{"linux", "amd64", ""}, {"linux", "arm64", ""}, false},
      {{"linux", "amd64", ""}, {"windows", "amd64", ""}, false},
      {{"linux", "386", ""}, {"linux", "i386", ""}, true},
  }));
  CAPTURE(row.a.String(), row.b.String());
  CHECK(row.a.Matches(row.b) == row.match);
  CHECK(row.b.Matches(row.a) == row.match);
  CHECK(row.a.Matches(row.a));
}

TEST_CASE("Platform equality is exact while Matches normalises", "[core][platform]") {
  Platform plain{"linux", "arm64", ""};
  Platform v8{"linux", "arm64", "v8"};
  CHECK_FALSE(plain == v8);
  CHECK(plain.Matches(v8));
  CHECK(plain == Platform{"linux", "arm64", ""});
}

}  // namespace
}  // namespace kim
