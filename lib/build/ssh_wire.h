// SSH wire format (RFC 4251 section 5): a bounds-checked reader and the writers of bytes,
// uint32s, strings and mpints, shared by key parsing and the agent protocol. Internal.
#ifndef KIM_LIB_BUILD_SSH_WIRE_H_
#define KIM_LIB_BUILD_SSH_WIRE_H_

#include <openssl/bn.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/core/openssl_ptr.h"

namespace kim::build {

// Reads SSH wire-format values from a buffer; every read is bounds-checked and fails (returns
// false) instead of running past the end.
class WireReader {
 public:
  explicit WireReader(absl::string_view data) : rest_(data) {}

  bool Byte(uint8_t* out) {
    if (rest_.empty()) return false;
    *out = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return true;
  }
  bool U32(uint32_t* out) {
    if (rest_.size() < 4) return false;
    const auto* b = reinterpret_cast<const unsigned char*>(rest_.data());
    *out = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    rest_.remove_prefix(4);
    return true;
  }
  bool Bytes(size_t n, absl::string_view* out) {
    if (rest_.size() < n) return false;
    *out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  bool String(absl::string_view* out) {
    uint32_t n;
    return U32(&n) && Bytes(n, out);
  }
  // An mpint that must not be negative, as a BIGNUM.
  bool Mpint(OpenSslPtr<BIGNUM>* out) {
    absl::string_view bytes;
    if (!String(&bytes)) return false;
    if (!bytes.empty() && (static_cast<uint8_t>(bytes[0]) & 0x80) != 0) return false;
    out->reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
    return *out != nullptr;
  }

  absl::string_view rest() const { return rest_; }
  bool empty() const { return rest_.empty(); }

 private:
  absl::string_view rest_;
};

// The largest SSH agent message kim accepts (requests and a relayed agent's answers).
inline constexpr uint32_t kMaxAgentMessage = 1u << 20;

// Takes the next agent message (a uint32 length, then that many bytes) off the front of
// `pending`, a stream's bytes as they arrived, into `body` (without the length). Returns false
// when `pending` does not hold a whole message yet, InvalidArgument for a length over
// kMaxAgentMessage.
absl::StatusOr<bool> TakeAgentMessage(std::string* pending, std::string* body);

// Appends one byte.
void PutByte(std::string* out, uint8_t b);
// Appends a big-endian uint32.
void PutU32(std::string* out, uint32_t v);
// Appends a string: its uint32 length, then its bytes.
void PutString(std::string* out, absl::string_view s);
// Appends an mpint: big-endian two's complement, shortest form, a leading zero byte when the top
// bit of a positive number is set, and no bytes at all for zero.
void PutMpint(std::string* out, const BIGNUM* n);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_SSH_WIRE_H_
