// Digest parsing follows go-digest's Digest.Validate step by step so that kim reports the same
// error as Docker and containerd for the same malformed input.
#include "kim/digest.h"

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdlib>

#include <fmt/format.h>

#include "lib/core/openssl_ptr.h"

namespace kim {
namespace {

constexpr std::string_view kSha256Prefix = "sha256:";

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool IsLowerAlnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); }

bool AllLowerHex(std::string_view s) {
  for (char c : s) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

// The hex length of a supported algorithm's output, or 0 when kim does not support it.
size_t HexLength(std::string_view algorithm) {
  if (algorithm == "sha256") return 64;
  if (algorithm == "sha384") return 96;
  if (algorithm == "sha512") return 128;
  return 0;
}

// go-digest's DigestRegexpAnchored: [a-z0-9]+([.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+
// It decides whether an unknown algorithm is "unsupported" (well formed) or "invalid format".
bool LooksLikeDigest(std::string_view algorithm, std::string_view encoded) {
  if (algorithm.empty() || encoded.empty()) return false;
  bool need_alnum = true;  // At the start and after each separator.
  for (char c : algorithm) {
    if (IsLowerAlnum(c)) {
      need_alnum = false;
    } else if ((c == '.' || c == '+' || c == '_' || c == '-') && !need_alnum) {
      need_alnum = true;
    } else {
      return false;
    }
  }
  if (need_alnum) return false;
  for (char c : encoded) {
    bool ok = IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '=' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string_view StripSha256Prefix(std::string_view id) {
  if (id.substr(0, kSha256Prefix.size()) == kSha256Prefix) id.remove_prefix(kSha256Prefix.size());
  return id;
}

}  // namespace

absl::Status Digest::Validate(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return absl::InvalidArgumentError("invalid checksum digest format");
  }
  std::string_view algorithm = text.substr(0, colon);
  std::string_view encoded = text.substr(colon + 1);
  size_t want = HexLength(algorithm);
  if (want == 0) {
    return absl::InvalidArgumentError(LooksLikeDigest(algorithm, encoded)
                                          ? "unsupported digest algorithm"
                                          : "invalid checksum digest format");
  }
  if (encoded.size() != want) {
    return absl::InvalidArgumentError("invalid checksum digest length");
  }
  if (!AllLowerHex(encoded)) {
    return absl::InvalidArgumentError("invalid checksum digest format");
  }
  return absl::OkStatus();
}

absl::StatusOr<Digest> Digest::Parse(std::string_view text) {
  if (absl::Status status = Validate(text); !status.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("invalid digest {:?}: {}", text, std::string(status.message())));
  }
  size_t colon = text.find(':');
  return Digest(std::string(text.substr(0, colon)), std::string(text.substr(colon + 1)));
}

std::string Digest::String() const { return algorithm_ + ":" + hex_; }

std::string Digest::ShortId() const { return hex_.substr(0, 12); }

namespace {

// The lowercase hex of a raw hash value.
std::string LowerHex(const unsigned char* value, unsigned int size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[value[i] >> 4]);
    hex.push_back(kHex[value[i] & 0xf]);
  }
  return hex;
}

}  // namespace

Digest DigestOf(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  // EVP_Digest only fails on allocation failure or a broken OpenSSL install; sha256 is always
  // built in, so a failure here is not recoverable by the caller.
  if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &md_len, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  return Digest(std::string(Digest::kSha256), LowerHex(md.data(), md_len));
}

struct Sha256Digester::State {
  OpenSslPtr<EVP_MD_CTX> context{EVP_MD_CTX_new()};
};

Sha256Digester::Sha256Digester() : state_(std::make_unique<State>()) {
  // As in DigestOf: only an allocation failure or a broken OpenSSL makes this fail.
  if (!state_->context || EVP_DigestInit_ex(state_->context.get(), EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
}

Sha256Digester::~Sha256Digester() = default;

void Sha256Digester::Update(std::string_view bytes) {
  EVP_DigestUpdate(state_->context.get(), bytes.data(), bytes.size());
}

Digest Sha256Digester::Current() const {
  OpenSslPtr<EVP_MD_CTX> copy(EVP_MD_CTX_new());
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), state_->context.get()) != 1 ||
      EVP_DigestFinal_ex(copy.get(), md.data(), &md_len) != 1) {
    std::abort();
  }
  return Digest(std::string(Digest::kSha256), LowerHex(md.data(), md_len));
}

bool IsFullImageId(std::string_view id) {
  id = StripSha256Prefix(id);
  return id.size() == 64 && AllLowerHex(id);
}

bool IsImageIdPrefix(std::string_view id) {
  id = StripSha256Prefix(id);
  return !id.empty() && id.size() <= 64 && AllLowerHex(id);
}

std::string ShortImageId(std::string_view id) {
  return std::string(StripSha256Prefix(id).substr(0, 12));
}

}  // namespace kim
