// SSH wire-format writers.
#include "lib/build/ssh_wire.h"

namespace kim::build {

absl::StatusOr<bool> TakeAgentMessage(std::string* pending, std::string* body) {
  WireReader in(*pending);
  uint32_t length = 0;
  if (!in.U32(&length)) return false;
  if (length > kMaxAgentMessage) return absl::InvalidArgumentError("oversized SSH agent request");
  absl::string_view bytes;
  if (!in.Bytes(length, &bytes)) return false;
  body->assign(bytes.data(), bytes.size());
  pending->erase(0, 4 + size_t{length});
  return true;
}

void PutByte(std::string* out, uint8_t b) { out->push_back(static_cast<char>(b)); }

void PutU32(std::string* out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(bytes, 4);
}

void PutString(std::string* out, absl::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s.data(), s.size());
}

void PutMpint(std::string* out, const BIGNUM* n) {
  std::string magnitude(static_cast<size_t>(BN_num_bytes(n)), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(magnitude.data()));
  if (!magnitude.empty() && (static_cast<uint8_t>(magnitude[0]) & 0x80) != 0) {
    magnitude.insert(magnitude.begin(), '\0');
  }
  PutString(out, magnitude);
}

}  // namespace kim::build
