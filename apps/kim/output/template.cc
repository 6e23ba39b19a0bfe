// Parsing and rendering of Docker-style --format templates.
#include "apps/kim/output/template.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace kim::cli {

absl::StatusOr<RowTemplate> RowTemplate::Parse(const std::string& format,
                                               const std::vector<std::string>& fields) {
  RowTemplate parsed;
  std::string body = format;
  if (body.empty() || body == "table") {
    parsed.kind_ = Kind::kTable;
    return parsed;
  }
  if (body == "json" || body == "{{json .}}") {
    parsed.kind_ = Kind::kJson;
    return parsed;
  }
  if (absl::StartsWith(body, "table ")) {
    parsed.kind_ = Kind::kTable;
    body = body.substr(6);
  } else {
    parsed.kind_ = Kind::kText;
  }
  // Docker accepts the escapes \t and \n written literally on the command line.
  body = absl::StrReplaceAll(body, {{"\\t", "\t"}, {"\\n", "\n"}});
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t open = body.find("{{", pos);
    if (open == std::string::npos) {
      parsed.pieces_.push_back({false, body.substr(pos)});
      break;
    }
    if (open > pos) parsed.pieces_.push_back({false, body.substr(pos, open - pos)});
    const size_t close = body.find("}}", open);
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid --format \"", format, "\": unclosed \"{{\""));
    }
    std::string field(absl::StripAsciiWhitespace(body.substr(open + 2, close - open - 2)));
    if (!absl::StartsWith(field, ".") ||
        std::find(fields.begin(), fields.end(), field.substr(1)) == fields.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --format \"", format, "\": unknown field \"", field, "\" (known: .",
          absl::StrJoin(fields, ", ."), ")"));
    }
    parsed.pieces_.push_back({true, field.substr(1)});
    parsed.used_.push_back(field.substr(1));
    pos = close + 2;
  }
  return parsed;
}

std::string RowTemplate::Render(const std::map<std::string, std::string>& values) const {
  std::string row;
  for (const Piece& piece : pieces_) {
    if (!piece.is_field) {
      row += piece.text;
      continue;
    }
    auto it = values.find(piece.text);
    if (it != values.end()) row += it->second;
  }
  return row;
}

}  // namespace kim::cli
