// Ingest listings to progress events (lib/images/ingest_tracker.h).
#include <catch2/catch.hpp>

#include "lib/images/ingest_tracker.h"

namespace {

const std::string kLayer = "sha256:" + std::string(64, '1');
const std::string kOther = "sha256:" + std::string(64, '2');
const std::string kConfig = "sha256:" + std::string(64, '3');

std::string States(const std::vector<kim::BlobProgress>& events) {
  std::string out;
  for (const auto& event : events) {
    out += event.digest.substr(7, 1) + ":" + kim::TransferStateName(event.state, false) + ":" +
           std::to_string(event.offset) + "/" + std::to_string(event.total) + " ";
  }
  return out;
}

}  // namespace

TEST_CASE("IngestDigest: expected digest, else the end of the ref", "[images][progress]") {
  CHECK(kim::IngestDigest({.ref = "layer-" + kLayer}) == kLayer);
  CHECK(kim::IngestDigest({.ref = "k8s.io/1/layer-" + kLayer}) == kLayer);
  CHECK(kim::IngestDigest({.ref = "anything", .expected = kOther}) == kOther);
  CHECK_FALSE(kim::IngestDigest({.ref = "layer-sha256:abc"}).has_value());
  CHECK_FALSE(kim::IngestDigest({.ref = "upload-1234"}).has_value());
}

TEST_CASE("IngestTracker discovery mode: new ingests only, one event per change",
          "[images][progress]") {
  std::vector<kim::BlobProgress> events;
  kim::IngestTracker tracker([&](const kim::BlobProgress& event) { events.push_back(event); });
  tracker.IgnoreExisting({{.ref = "layer-" + kOther, .offset = 5, .total = 10}});

  tracker.Observe({{.ref = "layer-" + kOther, .offset = 6, .total = 10},
                   {.ref = "layer-" + kLayer, .offset = 0, .total = 100}});
  tracker.Observe({{.ref = "layer-" + kLayer, .offset = 0, .total = 100}});  // no change
  tracker.Observe({{.ref = "layer-" + kLayer, .offset = 40, .total = 100}});
  tracker.Observe({{.ref = "layer-" + kLayer, .offset = 100, .total = 100}});
  tracker.Observe({});  // committed
  CHECK(States(events) ==
        "1:Waiting:0/100 1:Downloading:40/100 1:Verifying Checksum:100/100 "
        "1:Pull complete:100/100 ");
  CHECK(tracker.SeenDigests() == std::set<std::string>{kLayer});

  // Finish: the final states from the manifest; a blob already Done is not repeated.
  events.clear();
  tracker.Finish({{kim::Descriptor{.media_type = "m/layer", .digest = kLayer, .size = 100},
                   kim::TransferState::kDone},
                  {kim::Descriptor{.media_type = "m/config", .digest = kConfig, .size = 7},
                   kim::TransferState::kExists}});
  CHECK(States(events) == "3:Already exists:7/7 ");
  REQUIRE(events.size() == 1);
  CHECK(events[0].media_type == "m/config");
}

TEST_CASE("IngestTracker exact mode: watched blobs only", "[images][progress]") {
  std::vector<kim::BlobProgress> events;
  kim::IngestTracker tracker([&](const kim::BlobProgress& event) { events.push_back(event); });
  tracker.WatchBlobs({{.media_type = "m/layer", .digest = kLayer, .size = 100}});
  tracker.Observe({{.ref = "layer-" + kOther, .offset = 6, .total = 10},
                   {.ref = "layer-" + kLayer, .offset = 30}});
  CHECK(States(events) == "1:Downloading:30/100 ");
  CHECK(events.at(0).media_type == "m/layer");

  // The pull ended with the layer still listed: Finish says Done (a blob this pull moved is
  // never reported as Exists).
  events.clear();
  tracker.Finish({{kim::Descriptor{.digest = kLayer, .size = 100}, kim::TransferState::kExists}});
  CHECK(States(events) == "1:Pull complete:100/100 ");
}

TEST_CASE("IngestTracker: a failed pull closes what it showed", "[images][progress]") {
  std::vector<kim::BlobProgress> events;
  kim::IngestTracker tracker([&](const kim::BlobProgress& event) { events.push_back(event); });
  tracker.Observe({{.ref = "layer-" + kLayer, .offset = 10, .total = 100}});
  events.clear();
  tracker.Finish({});
  CHECK(States(events) == "1:Pull complete:100/100 ");
  kim::IngestTracker silent(nullptr);
  silent.Observe({{.ref = "layer-" + kLayer, .offset = 10, .total = 100}});
  silent.Finish({});
  CHECK(silent.SeenDigests() == std::set<std::string>{kLayer});
}
