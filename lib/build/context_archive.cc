// IsContextArchive (kim/build_service.h): the same test BuildKit's Dockerfile frontend applies to
// a downloaded context: a compression magic number, or a first tar header whose checksum holds.
#include <cstdint>
#include <string>

#include "kim/build_service.h"

namespace kim {
namespace {

constexpr size_t kTarBlock = 512;
constexpr size_t kChecksumOffset = 148;
constexpr size_t kChecksumSize = 8;

bool StartsWith(const std::string& data, const std::string& magic) {
  return data.size() >= magic.size() && data.compare(0, magic.size(), magic) == 0;
}

// The checksum field: octal digits, padded with spaces or NULs (as Go's archive/tar reads it).
bool ParseChecksum(const std::string& block, int64_t* value) {
  *value = 0;
  bool digits = false;
  for (size_t i = kChecksumOffset; i < kChecksumOffset + kChecksumSize; ++i) {
    const char c = block[i];
    if (c >= '0' && c <= '7') {
      *value = *value * 8 + (c - '0');
      digits = true;
    } else if (c == ' ' || c == '\0') {
      if (digits) break;
    } else {
      return false;
    }
  }
  return digits;
}

bool IsTarHeader(const std::string& data) {
  if (data.size() < kTarBlock) return false;
  const std::string block = data.substr(0, kTarBlock);
  if (block.find_first_not_of('\0') == std::string::npos) return false;  // end-of-archive block
  int64_t recorded = 0;
  if (!ParseChecksum(block, &recorded)) return false;
  int64_t unsigned_sum = 0, signed_sum = 0;
  for (size_t i = 0; i < kTarBlock; ++i) {
    const bool in_field = i >= kChecksumOffset && i < kChecksumOffset + kChecksumSize;
    const char c = in_field ? ' ' : block[i];
    unsigned_sum += static_cast<unsigned char>(c);
    signed_sum += static_cast<signed char>(c);
  }
  return recorded == unsigned_sum || recorded == signed_sum;
}

}  // namespace

bool IsContextArchive(const std::string& header) {
  return StartsWith(header, "\x42\x5a\x68") ||                    // bzip2
         StartsWith(header, "\x1f\x8b\x08") ||                    // gzip
         StartsWith(header, std::string("\xfd\x37\x7a\x58\x5a\x00", 6)) ||  // xz
         IsTarHeader(header);
}

}  // namespace kim
