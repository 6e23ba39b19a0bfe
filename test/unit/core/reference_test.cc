// Unit tests for kim::ImageReference: Docker's reference grammar, its normalisation of familiar
// names, and its error texts, case by case.
#include "kim/reference.h"

#include <catch2/catch.hpp>

#include <string>

namespace kim {
namespace {

const std::string kHex64 = "4c1e3e7c9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0";
const std::string kDigest = "sha256:" + kHex64;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST_CASE("ParseNormalized qualifies and splits valid references", "[core][reference]") {
  struct Row {
    std::string input;
    std::string canonical;  // String()
    std::string domain;
    std::string path;
    std::string tag;
    std::string digest;    // Empty when none.
    std::string familiar;  // FamiliarString()
  };
  auto row = GENERATE_COPY(values<Row>({
      // Docker Hub familiar names.
      {"alpine", "docker.io/library/alpine", "docker.io", "library/alpine", "", "", "alpine"},
      {"alpine:3.19", "docker.io/library/alpine:3.19", "docker.io", "library/alpine", "3.19", "",
       "alpine:3.19"},
      {"user/app", "docker.io/user/app", "docker.io", "user/app", "", "", "user/app"},
      {"user/app:v1", "docker.io/user/app:v1", "docker.io", "user/app", "v1", "", "user/app:v1"},
      {"a/b/c/d/e", "docker.io/a/b/c/d/e", "docker.io", "a/b/c/d/e", "", "", "a/b/c/d/e"},
      {"docker.io/alpine", "docker.io/library/alpine", "docker.io", "library/alpine", "", "",
       "alpine"},
      {"docker.io/library/alpine", "docker.io/library/alpine", "docker.io", "library/alpine", "",
       "", "alpine"},
      {"index.docker.io/alpine", "docker.io/library/alpine", "docker.io", "library/alpine", "",
       "", "alpine"},
      {"index.docker.io/user/app:1", "docker.io/user/app:1", "docker.io", "user/app", "1", "",
       "user/app:1"},
      // "library/" is only dropped for a single-component official name.
      {"docker.io/library/a/b", "docker.io/library/a/b", "docker.io", "library/a/b", "", "",
       "library/a/b"},
      // Hub's API host is not rewritten by Docker either.
      {"registry-1.docker.io/user/app", "registry-1.docker.io/user/app", "registry-1.docker.io",
       "user/app", "", "", "registry-1.docker.io/user/app"},
      // Other registries.
      {"localhost/app", "localhost/app", "localhost", "app", "", "", "localhost/app"},
      {"localhost:5000/a/b:c", "localhost:5000/a/b:c", "localhost:5000", "a/b", "c", "",
       "localhost:5000/a/b:c"},
      {"[::1]:5000/app", "[::1]:5000/app", "[::1]:5000", "app", "", "", "[::1]:5000/app"},
      {"[2001:db8::1]/ns/app:tag", "[2001:db8::1]/ns/app:tag", "[2001:db8::1]", "ns/app", "tag",
       "", "[2001:db8::1]/ns/app:tag"},
      {"192.168.1.10:5000/app", "192.168.1.10:5000/app", "192.168.1.10:5000", "app", "", "",
       "192.168.1.10:5000/app"},
      {"quay.io/coreos/etcd:v3.5.0", "quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd",
       "v3.5.0", "", "quay.io/coreos/etcd:v3.5.0"},
      {"registry.example.com:443/ns/app:1.0@" + kDigest,
       "registry.example.com:443/ns/app:1.0@" + kDigest, "registry.example.com:443", "ns/app",
       "1.0", kDigest, "registry.example.com:443/ns/app:1.0@" + kDigest},
      {"my-registry.local:5000/team/app:2024.01.01-rc.1",
       "my-registry.local:5000/team/app:2024.01.01-rc.1", "my-registry.local:5000", "team/app",
       "2024.01.01-rc.1", "", "my-registry.local:5000/team/app:2024.01.01-rc.1"},
      {"xn--bcher-kva.example/app", "xn--bcher-kva.example/app", "xn--bcher-kva.example", "app",
       "", "", "xn--bcher-kva.example/app"},
      // An uppercase first component is a domain, and domains may be uppercase.
      {"Foo/bar", "Foo/bar", "Foo", "bar", "", "", "Foo/bar"},
      {"EXAMPLE.com/app", "EXAMPLE.com/app", "EXAMPLE.com", "app", "", "", "EXAMPLE.com/app"},
      // With no "/", "host:port" reads as name:tag, exactly as in Docker.
      {"localhost:5000", "docker.io/library/localhost:5000", "docker.io", "library/localhost",
       "5000", "", "localhost:5000"},
      {"example.com:5000", "docker.io/library/example.com:5000", "docker.io",
       "library/example.com", "5000", "", "example.com:5000"},
      // Digests, alone and with a tag.
      {"a@" + kDigest, "docker.io/library/a@" + kDigest, "docker.io", "library/a", "", kDigest,
       "a@" + kDigest},
      {"a:1@" + kDigest, "docker.io/library/a:1@" + kDigest, "docker.io", "library/a", "1",
       kDigest, "a:1@" + kDigest},
      {"docker.io/user/app:latest@" + kDigest, "docker.io/user/app:latest@" + kDigest,
       "docker.io", "user/app", "latest", kDigest, "user/app:latest@" + kDigest},
      // Separators and tag characters.
      {"a_b/c__d/e-f---g.h", "docker.io/a_b/c__d/e-f---g.h", "docker.io", "a_b/c__d/e-f---g.h",
       "", "", "a_b/c__d/e-f---g.h"},
      {"a:_tag", "docker.io/library/a:_tag", "docker.io", "library/a", "_tag", "", "a:_tag"},
      {"a:TAG-1.x_y", "docker.io/library/a:TAG-1.x_y", "docker.io", "library/a", "TAG-1.x_y", "",
       "a:TAG-1.x_y"},
      {"ghcr.io/o/r:" + std::string(128, 't'), "ghcr.io/o/r:" + std::string(128, 't'), "ghcr.io",
       "o/r", std::string(128, 't'), "", "ghcr.io/o/r:" + std::string(128, 't')},
      // A short hex string is a name; only 64 hex characters are refused.
      {"abcdef012345", "docker.io/library/abcdef012345", "docker.io", "library/abcdef012345", "",
       "", "abcdef012345"},
      // "sha256:<hex>" parses as repository "sha256" with a tag, as in Docker; callers check
      // IsFullImageId first.
      {kDigest, "docker.io/library/sha256:" + kHex64, "docker.io", "library/sha256", kHex64, "",
       kDigest},
      // The longest name: "docker.io/library/" is 18 characters.
      {std::string(237, 'a'), "docker.io/library/" + std::string(237, 'a'), "docker.io",
       "library/" + std::string(237, 'a'), "", "", std::string(237, 'a')},
  }));
  CAPTURE(row.input);
  absl::StatusOr<ImageReference> ref = ImageReference::ParseNormalized(row.input);
  INFO((ref.ok() ? std::string("ok") : Message(ref.status())));
  REQUIRE(ref.ok());
  CHECK(ref->String() == row.canonical);
  CHECK(ref->Domain() == row.domain);
  CHECK(ref->Path() == row.path);
  CHECK(ref->Name() == row.domain + "/" + row.path);
  CHECK(ref->Tag() == row.tag);
  CHECK(ref->HasTag() == !row.tag.empty());
  CHECK(ref->HasDigest() == !row.digest.empty());
  CHECK((ref->HasDigest() ? ref->Digest()->String() : std::string()) == row.digest);
  CHECK(ref->FamiliarString() == row.familiar);

  // Invariants: the canonical form is accepted by the strict parser and means the same; the
  // familiar form normalises back to the same reference.
  absl::StatusOr<ImageReference> strict = ImageReference::Parse(ref->String());
  REQUIRE(strict.ok());
  CHECK(*strict == *ref);
  absl::StatusOr<ImageReference> familiar = ImageReference::ParseNormalized(ref->FamiliarString());
  REQUIRE(familiar.ok());
  CHECK(*familiar == *ref);
}

TEST_CASE("ParseNormalized refuses invalid references with Docker's messages",
          "[core][reference]") {
  const std::string kFormat = "invalid reference format";
  struct Row {
    std::string input;
    std::string reason;
  };
  auto row = GENERATE_COPY(values<Row>({
      {"", "repository name must have at least one component"},
      {" ", kFormat},
      {" alpine", kFormat},
      {"alpine ", kFormat},
      {"a:b:c", kFormat},
      {":tag", kFormat},
      {"name:", kFormat},
      {"name@", kFormat},
      {"name@sha256", kFormat},
      {"name@sha256:", kFormat},
      {"name@sha256:short", kFormat},
      {"name@sha256:" + kHex64.substr(0, 31), kFormat},
      {"name@sha256:" + kHex64.substr(0, 40), "invalid checksum digest length"},
      {"name@md5:" + kHex64.substr(0, 32), "unsupported digest algorithm"},
      {"name@sha256:" + std::string(64, 'A'), "invalid checksum digest format"},
      {"name@" + kHex64, kFormat},
      {"name@1sha:" + kHex64, kFormat},
      {"a@b@" + kDigest, kFormat},
      {"a:tag@", kFormat},
      {"UPPER/Case", "invalid reference format: repository name (Case) must be lowercase"},
      {"Alpine", "invalid reference format: repository name (library/Alpine) must be lowercase"},
      {"user/App:1", "invalid reference format: repository name (user/App) must be lowercase"},
      {"example.com/App", "invalid reference format: repository name (App) must be lowercase"},
      {"docker.io/Library/alpine",
       "invalid reference format: repository name (Library/alpine) must be lowercase"},
      {kHex64, "invalid repository name (" + kHex64 +
                   "), cannot specify 64-byte hexadecimal strings"},
      {std::string(238, 'a'), "repository name must not be more than 255 characters"},
      {"example.com/" + std::string(244, 'a'),
       "repository name must not be more than 255 characters"},
      {"a:" + std::string(129, 't'), kFormat},
      {"a:-tag", kFormat},
      {"a:.tag", kFormat},
      {"a:t/g", kFormat},
      {"/a", kFormat},
      {"a/", kFormat},
      {"a//b", kFormat},
      {"a..b", kFormat},
      {"a___b", kFormat},
      {"a_-b", kFormat},
      {"a._b", kFormat},
      {"-a", kFormat},
      {"a-", kFormat},
      {"_a", kFormat},
      {"a/.b", kFormat},
      {"docker.io/", kFormat},
      {"registry.example.com/", kFormat},
      {"localhost:abc/app", kFormat},
      {"localhost:/app", kFormat},
      {"[::1/app", kFormat},
      {"[]/app", kFormat},
      {"[]:5000/app", kFormat},
      {"[::1]:/app", kFormat},
      {"[::1]x/app", kFormat},
      {"[::1]:50a0/app", kFormat},
      {"example.com:50a0/app", kFormat},
      {"example.com:5000:6000/app", kFormat},
      {"[::g]/app", kFormat},
      {"-example.com/app", kFormat},
      {"example-.com/app", kFormat},
      {"example..com/app", kFormat},
      // Looks like a domain, is not one; Docker would keep it with an empty domain (see header).
      {"a_b.c/x", kFormat},
      {"a\tb", kFormat},
      {"caf\xc3\xa9", kFormat},
      {"a b/c", kFormat},
  }));
  CAPTURE(row.input);
  absl::StatusOr<ImageReference> ref = ImageReference::ParseNormalized(row.input);
  REQUIRE_FALSE(ref.ok());
  CHECK(absl::IsInvalidArgument(ref.status()));
  std::string message = Message(ref.status());
  CHECK(message.rfind("invalid reference \"", 0) == 0);
  REQUIRE(message.size() > row.reason.size());
  CHECK(message.substr(message.size() - row.reason.size()) == row.reason);
}

TEST_CASE("Reference errors quote the input in one consistent shape", "[core][reference]") {
  CHECK(Message(ImageReference::ParseNormalized("a:b:c").status()) ==
        "invalid reference \"a:b:c\": invalid reference format");
  CHECK(Message(ImageReference::ParseNormalized("UPPER/Case").status()) ==
        "invalid reference \"UPPER/Case\": invalid reference format: repository name (Case) must "
        "be lowercase");
  CHECK(Message(ImageReference::ParseNormalized("").status()) ==
        "invalid reference \"\": repository name must have at least one component");
  // Unprintable and quote characters are escaped so the message stays on one line.
  CHECK(Message(ImageReference::ParseNormalized("a\tb").status()) ==
        "invalid reference \"a\\tb\": invalid reference format");
  CHECK(Message(ImageReference::ParseNormalized("a\"b").status()) ==
        "invalid reference \"a\\\"b\": invalid reference format");
}

TEST_CASE("A 64-hex official name parses qualified but not familiar, as in Docker",
          "[core][reference]") {
  absl::StatusOr<ImageReference> ref =
      ImageReference::ParseNormalized("docker.io/library/" + kHex64);
  REQUIRE(ref.ok());
  CHECK(ref->FamiliarString() == kHex64);
  CHECK_FALSE(ImageReference::ParseNormalized(ref->FamiliarString()).ok());
  CHECK(ImageReference::ParseNormalized(kHex64 + ":1").ok());
}

TEST_CASE("Parse accepts only canonical references", "[core][reference]") {
  struct Row {
    std::string input;
    bool ok;
  };
  auto row = GENERATE_COPY(values<Row>({
      {"docker.io/library/alpine", true},
      {"docker.io/library/alpine:3", true},
      {"docker.io/user/app@" + kDigest, true},
      {"localhost:5000/a/b:c", true},
      {"[::1]:5000/app", true},
      {"registry.example.com:443/ns/app:1.0@" + kDigest, true},
      {"alpine", false},
      {"alpine:3", false},
      {"user/app", false},
      {"docker.io/alpine", false},
      {"index.docker.io/library/alpine", false},
  }));
  CAPTURE(row.input);
  absl::StatusOr<ImageReference> ref = ImageReference::Parse(row.input);
  CHECK(ref.ok() == row.ok);
  if (ref.ok()) {
    CHECK(ref->String() == row.input);
  } else {
    CHECK(Message(ref.status()) ==
          "invalid reference \"" + row.input + "\": repository name must be canonical");
  }
}

TEST_CASE("Parse reports grammar errors before canonical form", "[core][reference]") {
  CHECK(Message(ImageReference::Parse("").status()) ==
        "invalid reference \"\": repository name must have at least one component");
  CHECK(Message(ImageReference::Parse("docker.io/library/a:b:c").status()) ==
        "invalid reference \"docker.io/library/a:b:c\": invalid reference format");
}

TEST_CASE("FamiliarName drops docker.io and library/ only", "[core][reference]") {
  struct Row {
    std::string input;
    std::string familiar_name;
  };
  auto row = GENERATE_COPY(values<Row>({
      {"docker.io/library/alpine:3", "alpine"},
      {"docker.io/user/app", "user/app"},
      {"docker.io/library/a/b", "library/a/b"},
      {"quay.io/library/alpine", "quay.io/library/alpine"},
      {"localhost/app", "localhost/app"},
      {"registry-1.docker.io/library/alpine", "registry-1.docker.io/library/alpine"},
      // Hub namespaces that would read back as a registry keep "docker.io/".
      {"docker.io/foo.bar/app", "docker.io/foo.bar/app"},
      {"docker.io/localhost/app", "docker.io/localhost/app"},
      {"docker.io/library/foo.bar", "foo.bar"},
      {"docker.io/foo-bar/app", "foo-bar/app"},
  }));
  CAPTURE(row.input);
  absl::StatusOr<ImageReference> ref = ImageReference::ParseNormalized(row.input);
  REQUIRE(ref.ok());
  CHECK(ref->FamiliarName() == row.familiar_name);
}

TEST_CASE("WithDefaultTag adds latest only to a bare name", "[core][reference]") {
  struct Row {
    std::string input;
    std::string want;
  };
  auto row = GENERATE_COPY(values<Row>({
      {"alpine", "docker.io/library/alpine:latest"},
      {"alpine:3", "docker.io/library/alpine:3"},
      {"alpine@" + kDigest, "docker.io/library/alpine@" + kDigest},
      {"alpine:3@" + kDigest, "docker.io/library/alpine:3@" + kDigest},
      {"localhost:5000/app", "localhost:5000/app:latest"},
  }));
  CAPTURE(row.input);
  absl::StatusOr<ImageReference> ref = ImageReference::ParseNormalized(row.input);
  REQUIRE(ref.ok());
  CHECK(ref->WithDefaultTag().String() == row.want);
}

TEST_CASE("WithTag validates the tag and keeps the digest", "[core][reference]") {
  absl::StatusOr<ImageReference> ref = ImageReference::ParseNormalized("app:1@" + kDigest);
  REQUIRE(ref.ok());

  absl::StatusOr<ImageReference> retagged = ref->WithTag("2.0-rc_1");
  REQUIRE(retagged.ok());
  CHECK(retagged->String() == "docker.io/library/app:2.0-rc_1@" + kDigest);
  CHECK(ref->Tag() == "1");  // The original is unchanged.

  auto bad = GENERATE(as<std::string>(), "", "-x", ".x", "a/b", "a:b", "a@b", " x",
                      std::string(129, 'x'));
  CAPTURE(bad);
  absl::StatusOr<ImageReference> invalid = ref->WithTag(bad);
  REQUIRE_FALSE(invalid.ok());
  CHECK(absl::IsInvalidArgument(invalid.status()));
  CHECK(Message(invalid.status()).find("invalid tag format") != std::string::npos);
  CHECK(Message(invalid.status()).rfind("invalid tag \"", 0) == 0);
}

TEST_CASE("WithDigest and NameOnly", "[core][reference]") {
  absl::StatusOr<ImageReference> ref = ImageReference::ParseNormalized("user/app:1");
  REQUIRE(ref.ok());
  absl::StatusOr<kim::Digest> digest = kim::Digest::Parse(kDigest);
  REQUIRE(digest.ok());

  ImageReference pinned = ref->WithDigest(*digest);
  CHECK(pinned.String() == "docker.io/user/app:1@" + kDigest);
  CHECK(pinned.HasTag());
  REQUIRE(pinned.HasDigest());
  CHECK(*pinned.Digest() == *digest);
  CHECK_FALSE(ref->HasDigest());

  ImageReference name = pinned.NameOnly();
  CHECK(name.String() == "docker.io/user/app");
  CHECK_FALSE(name.HasTag());
  CHECK_FALSE(name.HasDigest());
  CHECK(name.WithDefaultTag().String() == "docker.io/user/app:latest");
}

TEST_CASE("ImageReference equality compares every part", "[core][reference]") {
  auto parse = [](const std::string& s) { return *ImageReference::ParseNormalized(s); };
  CHECK(parse("alpine") == parse("docker.io/library/alpine"));
  CHECK(parse("alpine") == parse("index.docker.io/library/alpine"));
  CHECK_FALSE(parse("alpine") == parse("alpine:latest"));
  CHECK_FALSE(parse("alpine:3") == parse("alpine:3@" + kDigest));
  CHECK_FALSE(parse("alpine") == parse("quay.io/alpine"));
  CHECK_FALSE(parse("localhost/app") == parse("localhost:5000/app"));
}

TEST_CASE("IsValidTag follows the tag grammar", "[core][reference]") {
  struct Row {
    std::string tag;
    bool valid;
  };
  auto row = GENERATE_COPY(values<Row>({
      {"latest", true},
      {"1", true},
      {"_", true},
      {"V1.2.3-rc.1_b", true},
      {std::string(128, 'a'), true},
      {std::string(129, 'a'), false},
      {"", false},
      {"-a", false},
      {".a", false},
      {"a b", false},
      {"a+b", false},
      {"caf\xc3\xa9", false},
  }));
  CAPTURE(row.tag);
  CHECK(IsValidTag(row.tag) == row.valid);
}

TEST_CASE("IsDockerHub knows Docker Hub's host names", "[core][reference]") {
  CHECK(IsDockerHub("docker.io"));
  CHECK(IsDockerHub("index.docker.io"));
  CHECK(IsDockerHub("registry-1.docker.io"));
  CHECK_FALSE(IsDockerHub("quay.io"));
  CHECK_FALSE(IsDockerHub("docker.io:443"));
  CHECK_FALSE(IsDockerHub("mirror.docker.io.example.com"));
  CHECK_FALSE(IsDockerHub(""));
  CHECK(IsDockerHub(ImageReference::ParseNormalized("alpine")->Domain()));
}

}  // namespace
}  // namespace kim
