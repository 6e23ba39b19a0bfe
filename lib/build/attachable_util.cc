// Metadata decoding for the session attachables.
#include "lib/build/attachable_util.h"

#include <string_view>

namespace kim::build {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's url.QueryUnescape (invalid escapes are kept as they are).
std::string QueryUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> MetadataValues(const SessionCall& call, const std::string& key) {
  bool encoded = false;
  for (const std::string& value : call.Metadata(key + "-encoded")) {
    encoded = value == "1" || value == "t" || value == "T" || value == "true" ||
              value == "TRUE" || value == "True";
  }
  std::vector<std::string> out = call.Metadata(key);
  if (encoded) {
    for (std::string& value : out) value = QueryUnescape(value);
  }
  return out;
}

}  // namespace kim::build
