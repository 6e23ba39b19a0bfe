// The pure parts of Inspect over containerd: diff IDs from a config, and chain IDs (the names of
// unpacked layers' snapshots), checked against values computed with Python's hashlib.
#include <catch2/catch.hpp>

#include "lib/images/containerd_inspect.h"

namespace {
const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');
}  // namespace

TEST_CASE("inspect: diff IDs from the config's rootfs", "[inspect][containerd]") {
  CHECK(kim::ConfigDiffIds(R"({"rootfs":{"type":"layers","diff_ids":[")" + kA + R"(",")" + kB +
                           R"("]}})") == std::vector<std::string>{kA, kB});
  CHECK(kim::ConfigDiffIds("{}").empty());
  CHECK(kim::ConfigDiffIds("not json").empty());
  CHECK(kim::ConfigDiffIds(R"({"rootfs":{"diff_ids":"x"}})").empty());
}

TEST_CASE("inspect: chain IDs as OCI defines them", "[inspect][containerd]") {
  CHECK(kim::ChainIds({}).empty());
  CHECK(kim::ChainIds({kA}) == std::vector<std::string>{kA});
  CHECK(kim::ChainIds({kA, kB, kC}) ==
        std::vector<std::string>{
            kA, "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c",
            "sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588"});
}
