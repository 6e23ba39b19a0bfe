// Layer compression: `kim build -t` keeps an image that stays on the node uncompressed (no time
// spent gzipping what never leaves it), `--compression` chooses, and `kim push` gives the
// registry a valid gzip image from it: every layer gzip, each inflating to its config's diff ID.
// peers: buildkitd containerd registry
// lock: buildkitd-cache
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cpprest/json.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "containerd/services/images/v1/images.grpc.pb.h"
#include "kim/digest.h"
#include "kim/reference.h"
#include "lib/images/containerd_blob_source.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/gzip_stream.h"
#include "lib/images/registry_client.h"
#include "lib/images/registry_manifest.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"
#include "test/support/temp_dir.h"

using kim::test::PeerEnv;
using kim::test::ProcessOutput;
using kim::test::Run;
using web::json::value;

namespace {

std::string Unique(const std::string& what) {
  return absl::StrCat(what, "-", getpid(), "-", absl::ToUnixMicros(absl::Now()) % 1000000000);
}

// kim in local mode on the peers' buildkitd and containerd.
ProcessOutput Kim(std::vector<std::string> words) {
  words.insert(words.begin(), {KIM_BINARY, "--containerd-socket", PeerEnv("KIM_TEST_CONTAINERD_SOCKET"),
                               "--buildkit-addr", PeerEnv("KIM_TEST_BUILDKIT_SOCKET")});
  return Run(words, "", {{"KIM_AGENT_ADDR", ""}});
}

// A context whose Dockerfile adds two layers of incompressible bytes to the seed busybox.
void WriteContext(const kim::test::TempDir& ctx) {
  ctx.Write("Dockerfile", "FROM " + PeerEnv("KIM_TEST_REGISTRY") +
                              "/busybox:1\nCOPY a /a\nRUN head -c 300000 /dev/urandom > /b\n");
  std::string random(200000, '\0');
  for (size_t i = 0; i < random.size(); ++i) random[i] = static_cast<char>((i * 7919 + i / 13) % 251);
  ctx.Write("a", random);
}

// The media types of the layers of `image` as the node's containerd stores it.
std::vector<std::string> StoredLayerTypes(const std::string& image) {
  auto connection = kim::ContainerdConnection::Open({.socket = PeerEnv("KIM_TEST_CONTAINERD_SOCKET")});
  REQUIRE(connection.ok());
  namespace images = containerd::services::images::v1;
  images::GetImageRequest request;
  request.set_name(image);
  images::GetImageResponse response;
  auto stub = images::Images::NewStub((*connection)->channel());
  REQUIRE(stub->Get((*connection)->NewContext().get(), request, &response).ok());
  kim::ContainerdBlobSource blobs(*std::move(connection));
  auto manifest = blobs.ReadAll({.media_type = response.image().target().media_type(),
                                 .digest = response.image().target().digest()});
  REQUIRE(manifest.ok());
  auto references = kim::ParseManifestReferences(response.image().target().media_type(), *manifest);
  REQUIRE(references.ok());
  std::vector<std::string> types;
  for (const auto& layer : references->layers) types.push_back(layer.media_type);
  return types;
}

// Blob `digest` of `reference`'s repository, fetched from the (plain HTTP) registry with curl.
std::string FetchBlob(const kim::ImageReference& reference, const std::string& digest) {
  const auto fetched = Run({"/usr/bin/curl", "-sf", absl::StrCat("http://", reference.Domain(), "/v2/",
                                                                reference.Path(), "/blobs/", digest)});
  INFO(fetched.err);
  REQUIRE(fetched.exit_code == 0);
  return fetched.out;
}

}  // namespace

TEST_CASE("build compression: uncompressed on the node, gzip in the registry after kim push",
          "[build][buildkitd][compression]") {
  kim::test::TempDir ctx;
  WriteContext(ctx);
  const std::string image = absl::StrCat(PeerEnv("KIM_TEST_REGISTRY"), "/", Unique("plain"), ":1");
  const auto built = Kim({"build", "-q", "-t", image, ctx.path()});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  const auto stored = StoredLayerTypes(image);
  REQUIRE(stored.size() == 3);  // the base's layer is converted too
  for (const auto& type : stored) CHECK_FALSE(absl::StrContains(type, "gzip"));

  const auto pushed = Kim({"push", image});
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);
  // What the registry holds: gzip layers, each inflating to the config's diff ID.
  auto reference = kim::ImageReference::ParseNormalized(image);
  REQUIRE(reference.ok());
  auto client = kim::RegistryClient::Create({.host = reference->Domain()});
  REQUIRE(client.ok());
  auto manifest = (*client)->FetchManifest(*reference);
  REQUIRE(manifest.ok());
  auto references = kim::ParseManifestReferences(manifest->first.media_type, manifest->second);
  REQUIRE(references.ok());
  const value diff_ids =
      value::parse(FetchBlob(*reference, references->config->digest)).at("rootfs").at("diff_ids");
  REQUIRE(references->layers.size() == diff_ids.size());
  for (size_t i = 0; i < references->layers.size(); ++i) {
    const auto& layer = references->layers[i];
    CHECK(absl::EndsWith(layer.media_type, "gzip"));
    const std::string blob = FetchBlob(*reference, layer.digest);
    CHECK(kim::DigestOf(blob).String() == layer.digest);
    kim::Sha256Digester inflated;
    kim::GzipInflater inflater([&](std::string_view bytes) {
      inflated.Update(bytes);
      return absl::OkStatus();
    });
    REQUIRE(inflater.Feed(blob).ok());
    REQUIRE(inflater.Finish().ok());
    CHECK(inflated.Current().String() == diff_ids.at(i).as_string());
  }

  // A second push finds the gzipped layers made by the first: nothing moves.
  const auto again = Kim({"push", image});
  INFO(again.out << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(absl::StrContains(again.out, "Layer already exists"));
  CHECK_FALSE(absl::StrContains(again.out, "Pushed"));
  CHECK(absl::StrContains(again.out, pushed.out.substr(pushed.out.rfind("digest: "))));

  // Pulled back from the registry, it is the same image.
  REQUIRE(Kim({"rmi", image}).exit_code == 0);
  const auto pulled = Kim({"pull", image});
  INFO(pulled.err);
  CHECK(pulled.exit_code == 0);
  Kim({"rmi", image});
}

TEST_CASE("build compression: --compression chooses, and push can keep layers as stored",
          "[build][buildkitd][compression]") {
  kim::test::TempDir ctx;
  WriteContext(ctx);
  const std::string image = absl::StrCat(PeerEnv("KIM_TEST_REGISTRY"), "/", Unique("chosen"), ":1");
  auto built = Kim({"build", "-q", "--compression", "zstd", "-t", image, ctx.path()});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  for (const auto& type : StoredLayerTypes(image)) CHECK(absl::EndsWith(type, "zstd"));

  built = Kim({"build", "-q", "--compression", "uncompressed", "-t", image, ctx.path()});
  REQUIRE(built.exit_code == 0);
  const auto pushed = Kim({"push", "--compression", "uncompressed", image});
  INFO(pushed.err);
  REQUIRE(pushed.exit_code == 0);
  auto reference = kim::ImageReference::ParseNormalized(image);
  REQUIRE(reference.ok());
  auto client = kim::RegistryClient::Create({.host = reference->Domain()});
  REQUIRE(client.ok());
  auto manifest = (*client)->FetchManifest(*reference);
  REQUIRE(manifest.ok());
  auto references = kim::ParseManifestReferences(manifest->first.media_type, manifest->second);
  REQUIRE(references.ok());
  for (const auto& layer : references->layers) CHECK_FALSE(absl::StrContains(layer.media_type, "gzip"));

  const auto bad = Kim({"build", "--compression", "lz4", "-t", image, ctx.path()});
  CHECK(bad.exit_code == 2);
  const auto bad_level = Kim({"push", "--compression-level", "12", image});
  CHECK(bad_level.exit_code == 1);
  CHECK(absl::StrContains(bad_level.err, "gzip takes 1 to 9"));
  Kim({"rmi", image});
}
