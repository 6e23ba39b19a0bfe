// Column-aligned tables like Go's text/tabwriter as the Docker CLI and the original kim use it:
// every column but the last padded to max(min_width, widest cell + padding).
#ifndef KIM_APPS_KIM_OUTPUT_TABLE_H_
#define KIM_APPS_KIM_OUTPUT_TABLE_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace kim::cli {

// Rows of cells, written aligned. Not thread-safe.
class Table {
 public:
  // The original kim's settings: minimum column width 20, padding 3.
  explicit Table(size_t min_width = 20, size_t padding = 3)
      : min_width_(min_width), padding_(padding) {}

  // Appends one row; rows may have different numbers of cells.
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  // Writes every row, one per line.
  void Write(std::ostream& out) const;

 private:
  size_t min_width_;
  size_t padding_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_TABLE_H_
