// Distribution's messages: what a sender, a receiver and kim's client put on the wire comes back
// unchanged (a node's failure keeps its code and message), and the GC labels kim gives indexes
// and manifests are containerd's.
#include <catch2/catch.hpp>

#include "lib/images/containerd_content_info.h"
#include "lib/images/transfer_convert.h"

namespace kim {
namespace {

TEST_CASE("transfer messages: an offer survives the wire", "[images][distribution]") {
  const TransferOffer offer{
      .images = {{.names = {"docker.io/library/app:1", "sha256:" + std::string(64, 'a')},
                  .target = {.media_type = kOciManifest, .digest = "sha256:" + std::string(64, 'b'),
                             .size = 512}}},
      .blobs = {{.media_type = kOciManifest, .digest = "sha256:" + std::string(64, 'b'), .size = 512},
                {.media_type = kOciConfig, .digest = "sha256:" + std::string(64, 'c'), .size = 0}},
      .pin = true};
  const TransferOffer back = FromProto(ToProto(offer));
  REQUIRE(back.images.size() == 1);
  CHECK(back.images[0].names == offer.images[0].names);
  CHECK(back.images[0].target.digest == offer.images[0].target.digest);
  CHECK(back.images[0].target.size == 512);
  REQUIRE(back.blobs.size() == 2);
  CHECK(back.blobs[1].media_type == kOciConfig);
  CHECK(back.blobs[1].size == 0);
  CHECK(back.pin);
}

TEST_CASE("transfer messages: a node's result keeps its status, progress its phase",
          "[images][distribution]") {
  const NodeDistribution failed{
      .node = "b",
      .status = absl::DataLossError("node \"b\": blob sha256:1: digest mismatch"),
      .blobs_total = 5, .blobs_sent = 2, .bytes_sent = 1234, .names = {}};
  const NodeDistribution back = FromProto(ToProto(failed));
  CHECK(back.node == "b");
  CHECK(back.status == failed.status);
  CHECK(back.blobs_total == 5);
  CHECK(back.blobs_sent == 2);
  CHECK(back.bytes_sent == 1234);
  const NodeDistribution done{.node = "c", .names = {"docker.io/library/app:1"}};
  CHECK(FromProto(ToProto(done)).status.ok());
  CHECK(FromProto(ToProto(done)).names == done.names);

  for (auto phase : {DistributeProgress::Phase::kComparing, DistributeProgress::Phase::kSending,
                     DistributeProgress::Phase::kCommitting, DistributeProgress::Phase::kDone,
                     DistributeProgress::Phase::kFailed}) {
    const DistributeProgress progress{.node = "b", .phase = phase, .blobs_total = 4,
                                      .blobs_missing = 3, .bytes_total = 99, .bytes_sent = 42,
                                      .error = "x"};
    const DistributeProgress got = FromProto(ToProto(progress));
    CHECK(got.phase == phase);
    CHECK(got.bytes_sent == 42);
    CHECK(got.blobs_missing == 3);
    CHECK(got.error == "x");
  }
  const AgentTarget target{.node = "n1", .address = "10.0.0.2:1233", .server_name = "builder.kube-image.svc"};
  const AgentTarget target_back = FromProto(ToProto(target));
  CHECK(target_back.address == target.address);
  CHECK(target_back.server_name == target.server_name);
}

TEST_CASE("GC labels: an index refers to its entries, a manifest to its config and layers",
          "[images][distribution]") {
  const std::vector<Descriptor> entries = {{.digest = "sha256:m0"}, {.digest = "sha256:m1"}};
  const auto index = IndexGcLabels(entries);
  CHECK(index.size() == 2);
  CHECK(index.at("containerd.io/gc.ref.content.m.1") == "sha256:m1");
  const std::vector<Descriptor> blobs = {{.digest = "sha256:c"}, {.digest = "sha256:l0"},
                                         {.digest = "sha256:l1"}};
  const auto manifest = ManifestGcLabels(blobs);
  CHECK(manifest.size() == 3);
  CHECK(manifest.at("containerd.io/gc.ref.content.config") == "sha256:c");
  CHECK(manifest.at("containerd.io/gc.ref.content.l.0") == "sha256:l0");
  CHECK(manifest.at("containerd.io/gc.ref.content.l.1") == "sha256:l1");
  CHECK(ManifestGcLabels({}).empty());
}

}  // namespace
}  // namespace kim
