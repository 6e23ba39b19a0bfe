// The subset of Go's text/template that `docker ... --format` users write, evaluated over JSON
// data (what `docker image inspect` falls back to as well): {{.Field.Sub}}, {{.}}, string and
// number literals, pipelines (|), parentheses, {{if}} / {{else}} / {{range}} / {{with}} /
// {{end}}, {{- trim markers -}}, comments, and the functions json, join, index, len, split,
// upper, lower, title, print, println, printf, eq, ne, not, and, or. No variables ($x) and no
// {{define}} / {{template}}.
#ifndef KIM_APPS_KIM_OUTPUT_GO_TEMPLATE_H_
#define KIM_APPS_KIM_OUTPUT_GO_TEMPLATE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <cpprest/json.h>

#include "absl/status/statusor.h"

namespace kim::cli {

// A parsed template. Immutable and cheap to copy.
class GoTemplate {
 public:
  // Parses `text`. InvalidArgument in Go's words ("template: :1: unclosed action",
  // "template: :1: function \"foo\" not defined") when it is not a template of the subset.
  static absl::StatusOr<GoTemplate> Parse(std::string_view text);

  // Runs the template with `data` as dot. Values print as Go prints them (go_json.h); a field
  // the data lacks prints "<no value>". InvalidArgument ("template: :1: executing ...") when a
  // function gets what it cannot take (index out of range, join of a non-list...).
  absl::StatusOr<std::string> Execute(const web::json::value& data) const;

  struct Node;  // one piece of the parsed tree (go_template.cc)

 private:
  std::shared_ptr<const std::vector<Node>> nodes_;
};

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_GO_TEMPLATE_H_
