// Tar headers written and parsed by hand: ustar's fixed fields, pax records for long names and
// sizes, GNU long names as Go's archive/tar and GNU tar write them.
#include "lib/images/tar_stream.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kim {
namespace {

constexpr size_t kNameField = 100;
constexpr uint64_t kMaxOctalSize = 077777777777ULL;  // 11 octal digits

// Writes `value` as zero-padded octal in `width - 1` digits and a NUL.
void PutOctal(char* field, size_t width, uint64_t value) {
  std::string digits(width - 1, '0');
  for (size_t i = width - 1; i-- > 0 && value > 0; value >>= 3) digits[i] = '0' + (value & 7);
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
}

// Writes the header's checksum: the sum of its bytes with the checksum field read as spaces.
void PutChecksum(std::string& block) {
  std::memset(&block[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  PutOctal(&block[148], 7, sum);
  block[155] = ' ';
}

std::string HeaderBlock(std::string_view name, uint64_t size, char type, unsigned mode) {
  std::string block(kTarBlockSize, '\0');
  std::memcpy(&block[0], name.data(), std::min(name.size(), kNameField));
  PutOctal(&block[100], 8, mode);
  PutOctal(&block[108], 8, 0);
  PutOctal(&block[116], 8, 0);
  if (size <= kMaxOctalSize) {
    PutOctal(&block[124], 12, size);
  } else {  // base-256, as GNU tar and Go write sizes that do not fit in octal
    block[124] = static_cast<char>(0x80);
    for (int i = 11; i >= 1 && size > 0; --i, size >>= 8) block[124 + i] = static_cast<char>(size & 0xff);
  }
  PutOctal(&block[136], 12, 0);
  block[156] = type;
  std::memcpy(&block[257], "ustar\0" "00", 8);
  PutChecksum(block);
  return block;
}

// One pax record "LEN key=value\n", where LEN counts the whole record including itself.
std::string PaxRecord(std::string_view key, std::string_view value) {
  const size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  size_t length = body + std::to_string(body).size();
  if (std::to_string(length).size() != std::to_string(body).size()) ++length;
  return absl::StrCat(length, " ", std::string(key), "=", std::string(value), "\n");
}

uint64_t ParseNumber(std::string_view field) {
  if (!field.empty() && (static_cast<unsigned char>(field[0]) & 0x80)) {
    uint64_t value = 0;
    for (size_t i = 1; i < field.size(); ++i) value = (value << 8) | static_cast<unsigned char>(field[i]);
    return value;
  }
  uint64_t value = 0;
  for (char c : field) {
    if (c == ' ' && value == 0) continue;
    if (c < '0' || c > '7') break;
    value = (value << 3) | static_cast<uint64_t>(c - '0');
  }
  return value;
}

std::string CString(std::string_view field) {
  return std::string(field.substr(0, std::min(field.size(), field.find('\0'))));
}

bool ChecksumHolds(std::string_view block) {
  const uint64_t stored = ParseNumber(block.substr(148, 8));
  uint64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < kTarBlockSize; ++i) {
    const char c = (i >= 148 && i < 156) ? ' ' : block[i];
    unsigned_sum += static_cast<unsigned char>(c);
    signed_sum += static_cast<signed char>(c);
  }
  return stored == unsigned_sum || static_cast<int64_t>(stored) == signed_sum;
}

std::string CleanName(std::string name) {
  while (name.starts_with("./")) name.erase(0, 2);
  while (name.starts_with("/")) name.erase(0, 1);
  return name;
}

TarEntry::Type EntryType(char flag) {
  switch (flag) {
    case '0': case '\0': case '7': return TarEntry::Type::kFile;
    case '5': return TarEntry::Type::kDirectory;
    case '2': return TarEntry::Type::kSymlink;
    case '1': return TarEntry::Type::kHardLink;
    default: return TarEntry::Type::kOther;
  }
}

}  // namespace

std::string TarFileHeader(std::string_view name, uint64_t size) {
  if (name.size() <= kNameField) return HeaderBlock(name, size, '0', 0644);
  const std::string records = PaxRecord("path", name);
  return absl::StrCat(HeaderBlock("PaxHeaders/long-name", records.size(), 'x', 0644), records,
                      TarPadding(records.size()),
                      HeaderBlock(name.substr(0, kNameField), size, '0', 0644));
}

std::string TarDirectoryHeader(std::string_view name) {
  return HeaderBlock(name, 0, '5', 0755);
}

std::string TarPadding(uint64_t size) {
  return std::string((kTarBlockSize - size % kTarBlockSize) % kTarBlockSize, '\0');
}

std::string TarTrailer() { return std::string(2 * kTarBlockSize, '\0'); }

absl::Status TarReader::Feed(std::string_view bytes) {
  while (!bytes.empty() && !ended_) {
    if (remaining_ > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, bytes.size()));
      const std::string_view piece = bytes.substr(0, n);
      bytes.remove_prefix(n);
      remaining_ -= n;
      if (extension_type_ != 0) {
        if (extension_type_ != 'g') extension_.append(piece);
      } else if (in_entry_) {
        if (absl::Status status = handler_->OnData(piece); !status.ok()) return status;
      }
      if (remaining_ == 0) {
        if (absl::Status status = EndEntry(); !status.ok()) return status;
      }
    } else if (padding_ > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(padding_, bytes.size()));
      bytes.remove_prefix(n);
      padding_ -= n;
    } else {
      const size_t n = std::min(kTarBlockSize - header_.size(), bytes.size());
      header_.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      if (header_.size() == kTarBlockSize) {
        const std::string block = std::move(header_);
        header_.clear();
        if (absl::Status status = ParseHeader(block); !status.ok()) return status;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status TarReader::ParseHeader(std::string_view block) {
  if (std::all_of(block.begin(), block.end(), [](char c) { return c == '\0'; })) {
    if (entries_ == 0) return absl::InvalidArgumentError("not a tar archive (it starts with zeros)");
    ended_ = true;
    return absl::OkStatus();
  }
  if (!ChecksumHolds(block)) {
    if (entries_ == 0) return absl::InvalidArgumentError("not a tar archive");
    return absl::DataLossError(
        absl::StrCat("the archive is corrupt: bad tar header after ", entries_, " entries"));
  }
  const char flag = block[156];
  uint64_t size = ParseNumber(block.substr(124, 12));
  if (size_override_) size = *size_override_;
  padding_ = (kTarBlockSize - size % kTarBlockSize) % kTarBlockSize;
  remaining_ = size;
  if (flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K') {
    extension_type_ = flag;
    extension_.clear();
    if (size > (1u << 20)) return absl::DataLossError("the archive has a tar extension header over 1 MiB");
    size_override_.reset();
    return remaining_ == 0 ? EndEntry() : absl::OkStatus();
  }
  ++entries_;
  TarEntry entry;
  std::string name = CString(block.substr(0, 100));
  if (block.substr(257, 5) == "ustar") {
    const std::string prefix = CString(block.substr(345, 155));
    if (!prefix.empty()) name = absl::StrCat(prefix, "/", name);
  }
  entry.name = CleanName(long_name_.empty() ? name : long_name_);
  entry.link = long_link_.empty() ? CString(block.substr(157, 100)) : long_link_;
  entry.type = EntryType(flag);
  entry.size = entry.type == TarEntry::Type::kFile ? size : 0;
  long_name_.clear();
  long_link_.clear();
  size_override_.reset();
  extension_type_ = 0;
  // Data of entries other than files is skipped without being reported.
  in_entry_ = true;
  if (absl::Status status = handler_->OnEntry(entry); !status.ok()) return status;
  if (entry.type != TarEntry::Type::kFile) in_entry_ = false;
  if (remaining_ == 0) return EndEntry();
  return absl::OkStatus();
}

absl::Status TarReader::EndEntry() {
  if (extension_type_ == 'L') {
    long_name_ = CString(extension_);
  } else if (extension_type_ == 'K') {
    long_link_ = CString(extension_);
  } else if (extension_type_ == 'x') {
    std::string_view records = extension_;
    while (!records.empty()) {
      const size_t space = records.find(' ');
      size_t length = 0;
      if (space == std::string_view::npos || !absl::SimpleAtoi(std::string(records.substr(0, space)), &length) ||
          length <= space || length > records.size()) {
        return absl::DataLossError("the archive has a malformed pax header");
      }
      std::string_view record = records.substr(space + 1, length - space - 2);
      records.remove_prefix(length);
      const size_t equals = record.find('=');
      if (equals == std::string_view::npos) continue;
      const std::string_view key = record.substr(0, equals), value = record.substr(equals + 1);
      uint64_t number = 0;
      if (key == "path") long_name_ = std::string(value);
      if (key == "linkpath") long_link_ = std::string(value);
      if (key == "size" && absl::SimpleAtoi(std::string(value), &number)) size_override_ = number;
    }
  } else if (extension_type_ == 0 && in_entry_) {
    in_entry_ = false;
    return handler_->OnEntryEnd();
  }
  extension_type_ = 0;
  extension_.clear();
  return absl::OkStatus();
}

absl::Status TarReader::Finish() {
  if (entries_ == 0 && !ended_) {
    return absl::InvalidArgumentError(header_.empty() ? "not a tar archive (it is empty)"
                                                      : "not a tar archive");
  }
  if (in_entry_ || remaining_ > 0 || !header_.empty() || extension_type_ != 0) {
    return absl::DataLossError("the archive is truncated");
  }
  return absl::OkStatus();
}

}  // namespace kim
