// Unit tests for kim::Digest and the image-ID helpers: go-digest's validation rules and error
// texts, sha256 test vectors, and the ID forms Docker users type.
#include "kim/digest.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>

namespace kim {
namespace {

const std::string kHex64 = "4c1e3e7c9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0";
const std::string kHex96 = kHex64 + kHex64.substr(0, 32);
const std::string kHex128 = kHex64 + kHex64;

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

TEST_CASE("Digest::Parse accepts the three supported algorithms", "[core][digest]") {
  struct Row {
    std::string text;
    std::string algorithm;
    std::string hex;
  };
  auto row = GENERATE_COPY(values<Row>({
      {"sha256:" + kHex64, "sha256", kHex64},
      {"sha384:" + kHex96, "sha384", kHex96},
      {"sha512:" + kHex128, "sha512", kHex128},
      {"sha256:" + std::string(64, '0'), "sha256", std::string(64, '0')},
  }));
  CAPTURE(row.text);
  absl::StatusOr<Digest> d = Digest::Parse(row.text);
  REQUIRE(d.ok());
  CHECK(d->Algorithm() == row.algorithm);
  CHECK(d->Hex() == row.hex);
  CHECK(d->Encoded() == row.hex);
  CHECK(d->String() == row.text);
  CHECK(d->ShortId() == row.hex.substr(0, 12));
  CHECK(Digest::Validate(row.text).ok());
}

TEST_CASE("Digest::Parse refuses malformed digests with go-digest's reasons", "[core][digest]") {
  constexpr const char* kFormat = "invalid checksum digest format";
  constexpr const char* kLength = "invalid checksum digest length";
  constexpr const char* kUnsupported = "unsupported digest algorithm";
  struct Row {
    std::string text;
    std::string reason;
  };
  auto row = GENERATE_COPY(values<Row>({
      {"", kFormat},
      {"sha256", kFormat},
      {"sha256:", kFormat},
      {":" + kHex64, kFormat},
      {kHex64, kFormat},
      {" sha256:" + kHex64, kFormat},
      {"SHA256:" + kHex64, kFormat},
      {"sha256:" + Upper(kHex64), kFormat},
      {"sha256:" + kHex64.substr(0, 63) + "g", kFormat},
      {"sha256:" + kHex64.substr(0, 63), kLength},
      {"sha256:" + kHex64 + "0", kLength},
      {"sha256:" + kHex64 + "\n", kLength},
      {"sha256:abc", kLength},
      {"sha384:" + kHex64, kLength},
      {"sha512:" + kHex64, kLength},
      {"md5:" + kHex64.substr(0, 32), kUnsupported},
      {"sha1:" + kHex64.substr(0, 40), kUnsupported},
      {"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", kUnsupported},
      {"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", kUnsupported},
      {"-sha256:" + kHex64, kFormat},
      {"md5:has space", kFormat},
  }));
  CAPTURE(row.text);
  absl::Status bare = Digest::Validate(row.text);
  CHECK(absl::IsInvalidArgument(bare));
  CHECK(bare.message() == row.reason);

  absl::StatusOr<Digest> d = Digest::Parse(row.text);
  REQUIRE_FALSE(d.ok());
  CHECK(absl::IsInvalidArgument(d.status()));
  // Parse quotes the input (escaped like Go's %q) before the reason.
  std::string message(d.status().message());
  CHECK(message.rfind("invalid digest \"", 0) == 0);
  CHECK(message.size() > row.reason.size());
  CHECK(message.substr(message.size() - row.reason.size()) == row.reason);
}

TEST_CASE("Digest::Parse error messages quote and escape the input", "[core][digest]") {
  CHECK(std::string(Digest::Parse("sha256:abc").status().message()) ==
        "invalid digest \"sha256:abc\": invalid checksum digest length");
  CHECK(std::string(Digest::Parse("a\"b\n").status().message()) ==
        "invalid digest \"a\\\"b\\n\": invalid checksum digest format");
}

TEST_CASE("DigestOf computes sha256 test vectors", "[core][digest]") {
  struct Row {
    std::string input;
    std::string hex;
  };
  auto row = GENERATE_COPY(values<Row>({
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"hello world\n", "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"},
      {std::string(1000000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      {std::string("\0\x01\xff", 3), ""},  // Binary input; checked by round trip only.
  }));
  Digest d = DigestOf(row.input);
  CHECK(d.Algorithm() == "sha256");
  CHECK(d.Hex().size() == 64);
  if (!row.hex.empty()) CHECK(d.Hex() == row.hex);
  absl::StatusOr<Digest> reparsed = Digest::Parse(d.String());
  REQUIRE(reparsed.ok());
  CHECK(*reparsed == d);
}

TEST_CASE("Digest equality and ordering", "[core][digest]") {
  Digest a = DigestOf("a");
  Digest b = DigestOf("b");
  CHECK(a == DigestOf("a"));
  CHECK_FALSE(a == b);
  CHECK((a < b) != (b < a));
  CHECK_FALSE(a < a);

  absl::StatusOr<Digest> sha256 = Digest::Parse("sha256:" + kHex64);
  absl::StatusOr<Digest> sha512 = Digest::Parse("sha512:" + kHex128);
  REQUIRE(sha256.ok());
  REQUIRE(sha512.ok());
  CHECK_FALSE(*sha256 == *sha512);
  CHECK(*sha256 < *sha512);  // Ordered by algorithm first.

  std::map<Digest, int> by_digest;
  by_digest[a] = 1;
  by_digest[b] = 2;
  by_digest[DigestOf("a")] = 3;
  CHECK(by_digest.size() == 2);
  CHECK(by_digest.at(a) == 3);
}

TEST_CASE("IsFullImageId recognises 64-hex IDs with or without sha256:", "[core][digest]") {
  struct Row {
    std::string id;
    bool full;
    bool prefix;
  };
  auto row = GENERATE_COPY(values<Row>({
      {kHex64, true, true},
      {"sha256:" + kHex64, true, true},
      {kHex64.substr(0, 12), false, true},
      {"sha256:" + kHex64.substr(0, 12), false, true},
      {"a", false, true},
      {"sha256:a", false, true},
      {"", false, false},
      {"sha256:", false, false},
      {kHex64 + "0", false, false},
      {Upper(kHex64), false, false},
      {"sha384:" + kHex64, false, false},
      {"sha256:sha256:" + kHex64, false, false},
      {kHex64.substr(0, 63) + "g", false, false},
      {"alpine", false, false},
      {"abc def", false, false},
      {"deadbeef", false, true},
  }));
  CAPTURE(row.id);
  CHECK(IsFullImageId(row.id) == row.full);
  CHECK(IsImageIdPrefix(row.id) == row.prefix);
}

TEST_CASE("ShortImageId keeps Docker's 12 characters", "[core][digest]") {
  struct Row {
    std::string id;
    std::string want;
  };
  auto row = GENERATE_COPY(values<Row>({
      {"sha256:" + kHex64, kHex64.substr(0, 12)},
      {kHex64, kHex64.substr(0, 12)},
      {"sha256:abc", "abc"},
      {"abc", "abc"},
      {"", ""},
      {"sha256:", ""},
  }));
  CAPTURE(row.id);
  CHECK(ShortImageId(row.id) == row.want);
}

TEST_CASE("ShortId matches ShortImageId of the digest string", "[core][digest]") {
  Digest d = DigestOf("kim");
  CHECK(d.ShortId() == ShortImageId(d.String()));
  CHECK(d.ShortId().size() == 12);
  CHECK(IsFullImageId(d.String()));
  CHECK(IsFullImageId(d.Hex()));
}

}  // namespace
}  // namespace kim

TEST_CASE("Sha256Digester: pieces give the digest of the whole, and it can be read midway",
          "[digest]") {
  kim::Sha256Digester digester;
  CHECK(digester.Current() == kim::DigestOf(""));
  digester.Update("hello ");
  CHECK(digester.Current() == kim::DigestOf("hello "));
  digester.Update("world");
  CHECK(digester.Current() == kim::DigestOf("hello world"));
  CHECK(digester.Current().String() ==
        "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
}
