// --format templates in the Docker CLI's style: "table", "json", or text with {{.Field}}
// placeholders ("{{.Repository}}:{{.Tag}}", "table {{.ID}}\t{{.Size}}").
#ifndef KIM_APPS_KIM_OUTPUT_TEMPLATE_H_
#define KIM_APPS_KIM_OUTPUT_TEMPLATE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace kim::cli {

// A parsed --format value. Immutable once parsed.
class RowTemplate {
 public:
  // What the template produces.
  enum class Kind { kTable, kJson, kText };

  // Parses `format` against the fields a command offers (e.g. {"Repository", "Tag", "ID"}).
  // Returns InvalidArgument naming an unknown field or an unclosed placeholder.
  static absl::StatusOr<RowTemplate> Parse(const std::string& format,
                                           const std::vector<std::string>& fields);

  Kind kind() const { return kind_; }
  // For kTable with custom columns, and kText: the fields in order of use.
  const std::vector<std::string>& used_fields() const { return used_; }
  // True for "table" with no columns of its own (the command's default table).
  bool is_default_table() const { return kind_ == Kind::kTable && pieces_.empty(); }

  // Renders one row: literal text with each {{.Field}} replaced by values[Field].
  std::string Render(const std::map<std::string, std::string>& values) const;

 private:
  struct Piece {
    bool is_field = false;
    std::string text;  // literal text, or the field name
  };
  Kind kind_ = Kind::kTable;
  std::vector<Piece> pieces_;
  std::vector<std::string> used_;
};

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_TEMPLATE_H_
