// Go-compatible JSON encoding and %v printing.
#include "apps/kim/output/go_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kim::cli {
namespace {

using web::json::value;

void AppendQuoted(const std::string& text, bool escape_html, std::string& out) {
  out += '"';
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (c < 0x20 || (escape_html && (c == '<' || c == '>' || c == '&'))) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8/A9): Go always escapes them.
    if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) & 0xFE) == 0xA8) {
      absl::StrAppend(&out, "\\u202", (text[i + 2] & 1) ? "9" : "8");
      i += 2;
      continue;
    }
    out += static_cast<char>(c);
  }
  out += '"';
}

std::string Number(const web::json::number& number) {
  if (number.is_int64()) return std::to_string(number.to_int64());
  if (number.is_uint64()) return std::to_string(number.to_uint64());
  const double d = number.to_double();
  if (std::floor(d) == d && std::fabs(d) < 1e21) return absl::StrFormat("%.0f", d);
  return absl::StrFormat("%.17g", d);
}

void Write(const value& v, const GoJsonStyle& style, int depth, std::string& out) {
  const bool pretty = !style.indent.empty();
  auto newline = [&](int level) {
    if (!pretty) return;
    out += '\n';
    for (int i = 0; i < level; ++i) out += style.indent;
  };
  switch (v.type()) {
    case value::Null: out += "null"; return;
    case value::Boolean: out += v.as_bool() ? "true" : "false"; return;
    case value::Number: out += Number(v.as_number()); return;
    case value::String: AppendQuoted(v.as_string(), style.escape_html, out); return;
    case value::Array: {
      const auto& array = v.as_array();
      if (array.size() == 0) { out += "[]"; return; }
      out += '[';
      for (size_t i = 0; i < array.size(); ++i) {
        if (i > 0) out += ',';
        newline(depth + 1);
        Write(array.at(i), style, depth + 1, out);
      }
      newline(depth);
      out += ']';
      return;
    }
    case value::Object: {
      const auto& object = v.as_object();
      if (object.empty()) { out += "{}"; return; }
      out += '{';
      bool first = true;
      for (const auto& [key, field] : object) {
        if (!first) out += ',';
        first = false;
        newline(depth + 1);
        AppendQuoted(key, style.escape_html, out);
        out += pretty ? ": " : ":";
        Write(field, style, depth + 1, out);
      }
      newline(depth);
      out += '}';
      return;
    }
  }
}

std::string Print(const value& v, bool nested) {
  switch (v.type()) {
    case value::Null: return "<nil>";
    case value::Boolean: return v.as_bool() ? "true" : "false";
    case value::Number: return Number(v.as_number());
    case value::String: return v.as_string();
    case value::Array: {
      std::string out = "[";
      const auto& array = v.as_array();
      for (size_t i = 0; i < array.size(); ++i) {
        if (i > 0) out += ' ';
        out += Print(array.at(i), true);
      }
      return out + "]";
    }
    case value::Object: {
      const auto& object = v.as_object();
      if (object.empty() && nested) return "{}";
      std::vector<std::pair<std::string, const value*>> entries;
      for (const auto& [key, field] : object) entries.emplace_back(key, &field);
      std::sort(entries.begin(), entries.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      std::string out = "map[";
      for (size_t i = 0; i < entries.size(); ++i) {
        absl::StrAppend(&out, i > 0 ? " " : "", entries[i].first, ":",
                        Print(*entries[i].second, true));
      }
      return out + "]";
    }
  }
  return "";
}

}  // namespace

std::string GoJson(const web::json::value& value, const GoJsonStyle& style) {
  std::string out;
  Write(value, style, 0, out);
  return out;
}

std::string GoPrint(const web::json::value& value) { return Print(value, false); }

}  // namespace kim::cli
