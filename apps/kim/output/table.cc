// Table layout.
#include "apps/kim/output/table.h"

#include <algorithm>
#include <ostream>

namespace kim::cli {
namespace {

// Display width of UTF-8 text: code points, not bytes.
size_t Width(const std::string& text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

}  // namespace

void Table::Write(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    for (size_t i = 0; i + 1 < row.size(); ++i) {  // the last cell of a row is never padded
      if (widths.size() <= i) widths.resize(i + 1, min_width_);
      widths[i] = std::max(widths[i], Width(row[i]) + padding_);
    }
  }
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(widths[i] - Width(row[i]), ' ');
    }
    out << '\n';
  }
}

}  // namespace kim::cli
