// `kim history`: rows from the config's history, and their views.
#include "apps/kim/output/history_rows.h"

#include <cpprest/json.h>

#include <algorithm>
#include <ostream>

#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "apps/kim/output/go_json.h"
#include "apps/kim/output/go_template.h"
#include "apps/kim/output/table.h"
#include "kim/digest.h"
#include "kim/units.h"

namespace kim::cli {
namespace {

using web::json::value;

constexpr char kMissing[] = "<missing>";
constexpr size_t kCreatedByWidth = 45;  // Docker's truncation of CREATED BY
constexpr char kDefaultTable[] =
    "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

absl::Time ParseCreated(const value& entry) {
  if (!entry.has_string_field("created")) return absl::InfinitePast();
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, entry.at("created").as_string(), &time, &error)) {
    return absl::InfinitePast();
  }
  return time;
}

std::string StringField(const value& object, const char* name) {
  return object.has_string_field(name) ? object.at(name).as_string() : "";
}

int64_t LayerSize(const LayerDetails& layer) {
  return layer.unpacked_size >= 0 ? layer.unpacked_size : layer.size;
}

// Docker's formatter.Ellipsis: at most `width` characters, the last one "…" when cut.
std::string Ellipsis(const std::string& text, size_t width) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (++chars == width) {  // the width-th character starts here: is there more after it?
      size_t next = i + 1;
      while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
      if (next >= text.size()) return text;
      return text.substr(0, i) + "…";
    }
  }
  return text;
}

// Go's time.RFC3339 in the local zone ("2021-05-06T09:08:09+02:00", "...Z" in UTC).
std::string Rfc3339(absl::Time t) {
  std::string formatted = absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, absl::LocalTimeZone());
  if (formatted.ends_with("+00:00")) formatted.replace(formatted.size() - 6, 6, "Z");
  return formatted;
}

value RowObject(const HistoryRow& row, const HistoryView& view, absl::Time now) {
  const bool dated = row.created != absl::InfinitePast();
  const std::string created_at = dated ? Rfc3339(row.created) : "N/A";
  std::string created_by = row.created_by;
  std::replace(created_by.begin(), created_by.end(), '\t', ' ');
  value object = value::object();
  object["ID"] = value::string(view.no_trunc || row.id == kMissing ? row.id : ShortImageId(row.id));
  object["CreatedAt"] = value::string(created_at);
  object["CreatedSince"] =
      value::string(!view.human ? created_at : dated ? TimeAgo(row.created, now) : "N/A");
  object["CreatedBy"] =
      value::string(view.no_trunc ? created_by : Ellipsis(created_by, kCreatedByWidth));
  object["Size"] = value::string(view.human
                                     ? HumanSizeWithPrecision(static_cast<double>(row.size), 3)
                                     : std::to_string(row.size));
  object["Comment"] = value::string(row.comment);
  return object;
}

// The template of a --format value, and whether it is a table.
absl::StatusOr<std::pair<GoTemplate, bool>> ParseFormat(const std::string& format) {
  std::string body = format;
  bool table = false;
  if (body.empty() || body == "table") {
    body = kDefaultTable;
    table = true;
  } else if (body.starts_with("table ")) {
    body = body.substr(6);
    table = true;
  } else if (body == "json") {
    body = "{{json .}}";
  }
  body = absl::StrReplaceAll(body, {{"\\t", "\t"}, {"\\n", "\n"}});
  auto parsed = GoTemplate::Parse(body);
  if (!parsed.ok()) return parsed.status();
  return std::make_pair(*std::move(parsed), table);
}

}  // namespace

const std::vector<std::string>& HistoryFields() {
  static const std::vector<std::string> fields = {"ID",        "CreatedSince", "CreatedAt",
                                                  "CreatedBy", "Size",         "Comment"};
  return fields;
}

std::vector<HistoryRow> HistoryRows(const ImageDetails& details) {
  std::error_code error;
  const value config = value::parse(details.config_json, error);
  std::vector<HistoryRow> rows;
  size_t layer = 0;
  if (!error && config.has_array_field("history") && config.at("history").size() > 0) {
    for (const value& entry : config.at("history").as_array()) {
      HistoryRow row{.id = kMissing,
                     .created = ParseCreated(entry),
                     .created_by = StringField(entry, "created_by"),
                     .comment = StringField(entry, "comment")};
      const bool empty = entry.has_boolean_field("empty_layer") && entry.at("empty_layer").as_bool();
      if (!empty && layer < details.layers.size()) row.size = LayerSize(details.layers[layer++]);
      rows.push_back(std::move(row));
    }
  } else {
    for (const LayerDetails& each : details.layers) {
      rows.push_back({.id = kMissing, .size = LayerSize(each)});
    }
  }
  std::reverse(rows.begin(), rows.end());
  if (!rows.empty()) rows.front().id = details.image.id;
  return rows;
}

absl::Status CheckHistoryFormat(const std::string& format) {
  return ParseFormat(format).status();
}

absl::Status WriteHistory(const std::vector<HistoryRow>& rows, const HistoryView& view,
                          absl::Time now, std::ostream& out) {
  auto format = ParseFormat(view.quiet ? "{{.ID}}" : view.format);
  if (!format.ok()) return format.status();
  const auto& [tmpl, table] = *format;
  std::vector<std::string> lines;
  for (const HistoryRow& row : rows) {
    auto line = tmpl.Execute(RowObject(row, view, now));
    if (!line.ok()) return line.status();
    lines.push_back(*std::move(line));
  }
  if (!table) {
    for (const std::string& line : lines) out << line << "\n";
    return absl::OkStatus();
  }
  value headers = value::object();
  headers["ID"] = value::string("IMAGE");
  headers["CreatedSince"] = value::string("CREATED");
  headers["CreatedAt"] = value::string("CREATED AT");
  headers["CreatedBy"] = value::string("CREATED BY");
  headers["Size"] = value::string("SIZE");
  headers["Comment"] = value::string("COMMENT");
  auto header = tmpl.Execute(headers);
  if (!header.ok()) return header.status();
  Table grid(10, 3);  // Docker's tabwriter: minimum width 10, padding 3
  grid.AddRow(std::vector<std::string>(absl::StrSplit(*header, '\t')));
  for (const std::string& line : lines) {
    grid.AddRow(std::vector<std::string>(absl::StrSplit(line, '\t')));
  }
  grid.Write(out);
  return absl::OkStatus();
}

}  // namespace kim::cli
