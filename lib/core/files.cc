// Whole-file reads.
#include "lib/core/files.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace kim {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, std::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", std::string(what), " \"", path, "\""));
  }
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace kim
