// Content digests ("sha256:<hex>") and Docker-style image IDs.
//
// A Digest is the OCI content address of a blob, manifest or image config. It follows the
// rules of the go-digest module used by Docker and containerd: only the algorithms kim can
// compute (sha256, sha384, sha512) are accepted, and the hex part must be lowercase and exactly
// as long as the algorithm's output.
//
// Error messages: Digest::Validate returns go-digest's own texts ("invalid checksum digest
// format", "invalid checksum digest length", "unsupported digest algorithm"); Digest::Parse
// prefixes them with the input, e.g. `invalid digest "sha256:abc": invalid checksum digest
// length`. Every error is absl::InvalidArgumentError.
#ifndef KIM_DIGEST_H_
#define KIM_DIGEST_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kim {

// A validated "algorithm:hex" content digest. Immutable value type; safe to share between
// threads.
class Digest {
 public:
  // The algorithm of every digest kim computes itself.
  static constexpr std::string_view kSha256 = "sha256";

  // Parses "sha256:<64 hex>", "sha384:<96 hex>" or "sha512:<128 hex>" (lowercase hex only).
  // Returns InvalidArgumentError with the input quoted and go-digest's reason on failure.
  static absl::StatusOr<Digest> Parse(std::string_view text);

  // Checks `text` like Parse without building a Digest. Returns OK, or InvalidArgumentError
  // whose message is exactly go-digest's text (no input prefix), so callers such as the
  // reference parser can wrap it in their own context.
  static absl::Status Validate(std::string_view text);

  Digest(const Digest&) = default;
  Digest& operator=(const Digest&) = default;
  Digest(Digest&&) = default;
  Digest& operator=(Digest&&) = default;

  // The full "algorithm:hex" form, e.g. "sha256:4c1e...".
  std::string String() const;

  // The algorithm name, e.g. "sha256".
  const std::string& Algorithm() const { return algorithm_; }

  // The lowercase hex encoding of the hash value.
  const std::string& Hex() const { return hex_; }

  // Same as Hex(); named after go-digest's Digest.Encoded for readers coming from Go.
  const std::string& Encoded() const { return hex_; }

  // The first 12 hex characters, as Docker shows image IDs in `docker images`.
  std::string ShortId() const;

  friend bool operator==(const Digest& a, const Digest& b) = default;

  // Orders by algorithm then hex, so digests can key ordered containers.
  friend bool operator<(const Digest& a, const Digest& b) {
    return a.algorithm_ != b.algorithm_ ? a.algorithm_ < b.algorithm_ : a.hex_ < b.hex_;
  }

 private:
  friend Digest DigestOf(std::string_view bytes);
  friend class Sha256Digester;

  Digest(std::string algorithm, std::string hex)
      : algorithm_(std::move(algorithm)), hex_(std::move(hex)) {}

  std::string algorithm_;
  std::string hex_;
};

// The sha256 digest of `bytes`, computed with OpenSSL.
Digest DigestOf(std::string_view bytes);

// A sha256 digest computed piece by piece, e.g. of a blob written in chunks. Not thread-safe.
class Sha256Digester {
 public:
  Sha256Digester();
  ~Sha256Digester();
  Sha256Digester(const Sha256Digester&) = delete;
  Sha256Digester& operator=(const Sha256Digester&) = delete;

  // Adds `bytes` to what has been digested.
  void Update(std::string_view bytes);
  // The digest of everything added so far (more may still be added).
  Digest Current() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// True when `id` is a complete image ID: 64 lowercase hex characters, with or without the
// "sha256:" prefix. Such strings are IDs, never repository names (Docker refuses them as names).
bool IsFullImageId(std::string_view id);

// True when `id` could abbreviate an image ID: 1 to 64 lowercase hex characters, with or without
// the "sha256:" prefix. Note that short hex strings ("abc") are also valid repository names; the
// caller decides which interpretation wins (Docker tries the name first).
bool IsImageIdPrefix(std::string_view id);

// The 12-character form of an image ID as Docker prints it: the "sha256:" prefix removed and
// the rest truncated to 12 characters. Shorter inputs are returned without the prefix, unchanged.
std::string ShortImageId(std::string_view id);

}  // namespace kim

#endif  // KIM_DIGEST_H_
