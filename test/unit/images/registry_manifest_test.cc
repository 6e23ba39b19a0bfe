// Manifest and index JSON → the descriptors the push walks.
#include <catch2/catch.hpp>

#include "lib/images/registry_manifest.h"

namespace {

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');

}  // namespace

TEST_CASE("manifests: config and layers in order", "[registry][manifest]") {
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      kDigestA + R"(","size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",)"
                 R"("digest":")" +
      kDigestB + R"(","size":20,"annotations":{"kim.mount-from":"library/app"}}]})";
  auto references = kim::ParseManifestReferences(kim::kOciManifest, manifest);
  REQUIRE(references.ok());
  REQUIRE(references->config.has_value());
  CHECK(references->config->digest == kDigestA);
  CHECK(references->config->size == 10);
  REQUIRE(references->layers.size() == 1);
  CHECK(references->layers[0].digest == kDigestB);
  CHECK(references->layers[0].annotations.at(kim::kMountFromAnnotation) == "library/app");
  CHECK(references->manifests.empty());
  CHECK(kim::ManifestMediaType(manifest) == kim::kOciManifest);
  // The media type may come from the bytes.
  CHECK(kim::ParseManifestReferences("", manifest).ok());
}

TEST_CASE("manifests: an index lists its manifests with platforms", "[registry][manifest]") {
  const std::string index =
      R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("digest":")" +
      kDigestA +
      R"(","size":5,"platform":{"os":"linux","architecture":"arm","variant":"v7"}}]})";
  CHECK(kim::ManifestMediaType(index) == kim::kOciIndex);  // by its shape
  auto references = kim::ParseManifestReferences(kim::kDockerManifestList, index);
  REQUIRE(references.ok());
  REQUIRE(references->manifests.size() == 1);
  CHECK(references->manifests[0].media_type == kim::kDockerManifest);
  REQUIRE(references->manifests[0].platform.has_value());
  CHECK(references->manifests[0].platform->String() == "linux/arm/v7");
  CHECK_FALSE(references->config.has_value());
}

TEST_CASE("manifests: malformed ones are refused", "[registry][manifest]") {
  for (const std::string& bad : {
           std::string("not json"),
           std::string("[]"),
           std::string(R"({"layers":[]})"),  // manifest without config
           std::string(R"({"config":{"digest":"sha256:abc","size":1},"layers":[]})"),
           R"({"config":{"digest":")" + kDigestA + R"(","size":-1},"layers":[]})",
           R"({"config":{"digest":")" + kDigestA + R"("},"layers":[]})",
           R"({"config":{"digest":")" + kDigestA + R"(","size":1},"layers":{}})",
           R"({"config":{"digest":")" + kDigestA + R"(","size":1},"layers":[7]})",
       }) {
    INFO(bad);
    CHECK(kim::ParseManifestReferences(kim::kOciManifest, bad).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  // Schema 1 and unknown types are not pushed.
  CHECK_FALSE(kim::ParseManifestReferences(
                  "application/vnd.docker.distribution.manifest.v1+prettyjws", "{}")
                  .ok());
  CHECK(kim::ManifestMediaType("{}").empty());
}
