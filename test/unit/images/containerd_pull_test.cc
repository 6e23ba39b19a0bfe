// Credentials and platform decisions of CRI pulls (lib/images/containerd_pull.h), and the image
// documents read back from containerd (lib/images/containerd_image_json.h).
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "lib/images/containerd_image_json.h"
#include "lib/images/containerd_pull.h"

namespace {

kim::ImageReference Ref(const char* text) { return *kim::ImageReference::ParseNormalized(text); }

}  // namespace

TEST_CASE("CredentialsApply: only to the registry they are for", "[images][pull]") {
  kim::RegistryCredentials credentials{.username = "u", .password = "p"};
  CHECK(kim::CredentialsApply(credentials, Ref("registry:5000/app")));  // no server: any
  credentials.server_address = "registry:5000";
  CHECK(kim::CredentialsApply(credentials, Ref("registry:5000/app")));
  CHECK_FALSE(kim::CredentialsApply(credentials, Ref("other:5000/app")));
  CHECK_FALSE(kim::CredentialsApply(credentials, Ref("registry/app")));
  credentials.server_address = "https://registry:5000/v1/";
  CHECK(kim::CredentialsApply(credentials, Ref("registry:5000/app")));
  credentials.server_address = "https://index.docker.io/v1/";
  CHECK(kim::CredentialsApply(credentials, Ref("alpine")));
  CHECK_FALSE(kim::CredentialsApply(credentials, Ref("ghcr.io/x/y")));
  CHECK_FALSE(kim::CredentialsApply(kim::RegistryCredentials{.server_address = "registry:5000"},
                                    Ref("registry:5000/app")));
}

TEST_CASE("CheckPullPlatform: the node's platform or nothing", "[images][pull]") {
  const kim::Platform node{"linux", "amd64", ""};
  CHECK(kim::CheckPullPlatform("", node).ok());
  CHECK(kim::CheckPullPlatform("linux/amd64", node).ok());
  CHECK(kim::CheckPullPlatform("x86_64", node).ok());
  const absl::Status other = kim::CheckPullPlatform("linux/arm64", node);
  CHECK(other.code() == absl::StatusCode::kInvalidArgument);
  CHECK(other.message() ==
        "cannot pull linux/arm64 images: containerd's CRI pulls only the node's platform "
        "(linux/amd64)");
  CHECK(kim::CheckPullPlatform("foo/bar", node).code() == absl::StatusCode::kInvalidArgument);
  const kim::Platform arm{"linux", "arm", "v7"};
  CHECK(kim::CheckPullPlatform("linux/arm", arm).ok());
  CHECK_FALSE(kim::CheckPullPlatform("linux/arm/v6", arm).ok());
}

TEST_CASE("ImageConfigCreated reads the config's date", "[images][json]") {
  CHECK(kim::ImageConfigCreated(R"({"created":"2021-05-06T07:08:09.5Z","os":"linux"})") ==
        absl::FromCivil(absl::CivilSecond(2021, 5, 6, 7, 8, 9), absl::UTCTimeZone()) +
            absl::Milliseconds(500));
  CHECK(kim::ImageConfigCreated(R"({"created":"2021-05-06T09:08:09+02:00"})") ==
        absl::FromCivil(absl::CivilSecond(2021, 5, 6, 7, 8, 9), absl::UTCTimeZone()));
  CHECK(kim::ImageConfigCreated(R"({"os":"linux"})") == absl::InfinitePast());
  CHECK(kim::ImageConfigCreated(R"({"created":"yesterday"})") == absl::InfinitePast());
  CHECK(kim::ImageConfigCreated(R"({"created":5})") == absl::InfinitePast());
  CHECK(kim::ImageConfigCreated("not json") == absl::InfinitePast());
}

TEST_CASE("ManifestBlobs and IndexManifests", "[images][json]") {
  const std::string d1 = "sha256:" + std::string(64, '1');
  const std::string d2 = "sha256:" + std::string(64, '2');
  auto blobs = kim::ManifestBlobs(
      R"({"schemaVersion":2,"config":{"mediaType":"c","digest":")" + d1 +
      R"(","size":10},"layers":[{"mediaType":"l","digest":")" + d2 + R"(","size":20}]})");
  REQUIRE(blobs.ok());
  REQUIRE(blobs->size() == 2);
  CHECK(blobs->at(0).media_type == "c");
  CHECK(blobs->at(0).digest == d1);
  CHECK(blobs->at(0).size == 10);
  CHECK(blobs->at(1).digest == d2);
  CHECK(blobs->at(1).size == 20);
  CHECK_FALSE(kim::ManifestBlobs(R"({"manifests":[]})").ok());
  CHECK_FALSE(kim::ManifestBlobs(R"({"config":{"digest":5},"layers":[]})").ok());

  auto index = kim::IndexManifests(
      R"({"manifests":[{"mediaType":"m","digest":")" + d1 +
      R"(","size":3,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},)"
      R"({"mediaType":"m","digest":")" + d2 + R"(","size":4}]})");
  REQUIRE(index.ok());
  REQUIRE(index->size() == 2);
  REQUIRE(index->at(0).platform.has_value());
  CHECK(index->at(0).platform->String() == "linux/arm/v7");
  CHECK_FALSE(index->at(1).platform.has_value());
  CHECK_FALSE(kim::IndexManifests("[]").ok());
  // Found by test/fuzz/manifest_fuzz.cc (seed manifest-empty-digest): an entry whose digest was
  // "" (or not a digest at all) was returned, and went on to name blobs and GC labels.
  for (const std::string& bad : std::vector<std::string>{R"("digest":"","size":2)", R"("digest":"sha256:zz","size":2)",
                                R"("digest":")" + d1 + R"(","size":-1)"}) {
    auto refused = kim::IndexManifests(R"({"manifests":[{"mediaType":"m",)" + bad + "}]}");
    REQUIRE_FALSE(refused.ok());
    CHECK(absl::StartsWith(refused.status().message(), "malformed index entry descriptor"));
  }
}
