// Running a parsed template over JSON data: field lookups, truth, if/range/with, functions.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "apps/kim/output/go_json.h"
#include "apps/kim/output/go_template_ast.h"

namespace kim::cli::go_template {
namespace {

using web::json::value;
using Node = GoTemplate::Node;

// A value during evaluation; `missing` for a field the data does not have (prints <no value>).
struct Value {
  value json;
  bool missing = false;
};

absl::Status ExecError(const Pipeline& pipeline, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("template: :", pipeline.line, ": executing \"",
                                                 pipeline.source, "\": ", message));
}

std::string TypeName(const value& v) {
  switch (v.type()) {
    case value::Array: return "[]interface {}";
    case value::String: return "string";
    case value::Number: return "float64";
    case value::Boolean: return "bool";
    default: return "interface {}";
  }
}

bool Truth(const Value& v) {
  if (v.missing) return false;
  switch (v.json.type()) {
    case value::Boolean: return v.json.as_bool();
    case value::Number: return v.json.as_double() != 0;
    case value::String: return !v.json.as_string().empty();
    case value::Array: return v.json.as_array().size() > 0;
    case value::Object: return !v.json.as_object().empty();
    default: return false;
  }
}

std::string Text(const Value& v) { return v.missing ? "<no value>" : GoPrint(v.json); }

using Function = std::function<absl::StatusOr<Value>(const std::vector<Value>&)>;

absl::Status Arity(const std::vector<Value>& args, size_t min, size_t max, const char* name) {
  if (args.size() >= min && args.size() <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("wrong number of args for ", name, ": want ", min, " got ", args.size()));
}

absl::StatusOr<Value> Index(const std::vector<Value>& args) {
  if (args.empty()) return absl::InvalidArgumentError("wrong number of args for index");
  Value current = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    if (current.missing || current.json.is_null()) return Value{.missing = true};
    const value& key = args[i].json;
    if (current.json.is_array() && key.is_number()) {
      // Go indexes only with integers (a float's conversion could not even be done safely).
      if (!key.as_number().is_int64()) {
        return absl::InvalidArgumentError(
            "error calling index: cannot index slice/array with type float64");
      }
      const int64_t n = key.as_number().to_int64();
      if (n < 0 || static_cast<size_t>(n) >= current.json.as_array().size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("error calling index: index out of range: ", n));
      }
      current = Value{current.json.as_array().at(static_cast<size_t>(n))};
    } else if (current.json.is_object() && key.is_string()) {
      if (!current.json.has_field(key.as_string())) return Value{.missing = true};
      current = Value{current.json.at(key.as_string())};
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "error calling index: cannot index ", TypeName(current.json), " with ", Text(args[i])));
    }
  }
  return current;
}

absl::StatusOr<Value> Join(const std::vector<Value>& args) {
  if (absl::Status s = Arity(args, 2, 2, "join"); !s.ok()) return s;
  if (!args[0].json.is_array() || !args[1].json.is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "error calling join: wrong argument types (want a list and a separator, got ",
        TypeName(args[0].json), " and ", TypeName(args[1].json), ")"));
  }
  std::vector<std::string> parts;
  for (const value& element : args[0].json.as_array()) parts.push_back(GoPrint(element));
  return Value{value::string(absl::StrJoin(parts, args[1].json.as_string()))};
}

absl::StatusOr<Value> StringFunction(const std::vector<Value>& args, const char* name,
                                     const std::function<std::string(std::string)>& f) {
  if (absl::Status s = Arity(args, 1, 1, name); !s.ok()) return s;
  return Value{value::string(f(Text(args[0])))};
}

std::string Sprint(const std::vector<Value>& args, bool always_space) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool strings = args[i].json.is_string() || (i > 0 && args[i - 1].json.is_string());
    if (i > 0 && (always_space || !strings)) out += ' ';
    out += Text(args[i]);
  }
  return out;
}

absl::StatusOr<Value> Printf(const std::vector<Value>& args) {
  if (args.empty() || !args[0].json.is_string()) {
    return absl::InvalidArgumentError("printf needs a format string");
  }
  const std::string format = args[0].json.as_string();
  std::string out;
  size_t next = 1;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) { out += format[i]; continue; }
    const char verb = format[++i];
    if (verb == '%') { out += '%'; continue; }
    if (next >= args.size()) { absl::StrAppend(&out, "%!", std::string(1, verb), "(MISSING)"); continue; }
    const Value& arg = args[next++];
    out += verb == 'q' ? GoJson(arg.json) : Text(arg);
  }
  return Value{value::string(out)};
}

const std::map<std::string, Function>& Functions() {
  static const auto* functions = new std::map<std::string, Function>{
      {"json", [](const std::vector<Value>& args) -> absl::StatusOr<Value> {
         if (absl::Status s = Arity(args, 1, 1, "json"); !s.ok()) return s;
         return Value{value::string(args[0].missing ? "null" : GoJson(args[0].json))};
       }},
      {"join", Join},
      {"index", Index},
      {"len", [](const std::vector<Value>& args) -> absl::StatusOr<Value> {
         if (absl::Status s = Arity(args, 1, 1, "len"); !s.ok()) return s;
         const value& v = args[0].json;
         if (v.is_array()) return Value{value::number(static_cast<int64_t>(v.as_array().size()))};
         if (v.is_object()) return Value{value::number(static_cast<int64_t>(v.as_object().size()))};
         if (v.is_string()) return Value{value::number(static_cast<int64_t>(v.as_string().size()))};
         return absl::InvalidArgumentError(
             absl::StrCat("error calling len: len of type ", TypeName(v)));
       }},
      {"split", [](const std::vector<Value>& args) -> absl::StatusOr<Value> {
         if (absl::Status s = Arity(args, 2, 2, "split"); !s.ok()) return s;
         value parts = value::array();
         size_t i = 0;
         for (absl::string_view part : absl::StrSplit(Text(args[0]), Text(args[1]))) {
           parts[i++] = value::string(std::string(part));
         }
         return Value{parts};
       }},
      {"upper", [](const std::vector<Value>& a) { return StringFunction(a, "upper", [](std::string s) { return absl::AsciiStrToUpper(s); }); }},
      {"lower", [](const std::vector<Value>& a) { return StringFunction(a, "lower", [](std::string s) { return absl::AsciiStrToLower(s); }); }},
      {"title", [](const std::vector<Value>& a) {
         return StringFunction(a, "title", [](std::string s) {
           for (size_t i = 0; i < s.size(); ++i) {
             if (i == 0 || absl::ascii_isspace(static_cast<unsigned char>(s[i - 1]))) {
               s[i] = absl::ascii_toupper(static_cast<unsigned char>(s[i]));
             }
           }
           return s;
         });
       }},
      {"print", [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
         return Value{value::string(Sprint(a, false))};
       }},
      {"println", [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
         return Value{value::string(Sprint(a, true) + "\n")};
       }},
      {"printf", Printf},
      {"eq", [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
         if (absl::Status s = Arity(a, 2, 100, "eq"); !s.ok()) return s;
         bool equal = false;
         for (size_t i = 1; i < a.size(); ++i) equal = equal || a[0].json == a[i].json;
         return Value{value::boolean(equal)};
       }},
      {"ne", [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
         if (absl::Status s = Arity(a, 2, 2, "ne"); !s.ok()) return s;
         return Value{value::boolean(!(a[0].json == a[1].json))};
       }},
      {"not", [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
         if (absl::Status s = Arity(a, 1, 1, "not"); !s.ok()) return s;
         return Value{value::boolean(!Truth(a[0]))};
       }},
      {"and", [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
         if (absl::Status s = Arity(a, 1, 100, "and"); !s.ok()) return s;
         for (const Value& v : a) if (!Truth(v)) return v;
         return a.back();
       }},
      {"or", [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
         if (absl::Status s = Arity(a, 1, 100, "or"); !s.ok()) return s;
         for (const Value& v : a) if (Truth(v)) return v;
         return a.back();
       }},
  };
  return *functions;
}

absl::StatusOr<Value> EvalPipeline(const Pipeline& pipeline, const value& dot);

absl::StatusOr<Value> EvalArg(const Pipeline& pipeline, const Arg& arg, const value& dot) {
  switch (arg.kind) {
    case Arg::Kind::kString: return Value{value::string(arg.text)};
    case Arg::Kind::kNumber:
      // An integer constant, unless it is written as a float or does not fit in an int64 (Go
      // keeps such a constant as a float; converting it would be undefined).
      if (arg.text.find_first_of(".eE") == std::string::npos && arg.number >= -0x1p63 &&
          arg.number < 0x1p63) {
        return Value{value::number(static_cast<int64_t>(arg.number))};
      }
      return Value{value::number(arg.number)};
    case Arg::Kind::kBool: return Value{value::boolean(arg.boolean)};
    case Arg::Kind::kNil: return Value{value::null()};
    case Arg::Kind::kPipeline: return EvalPipeline(*arg.pipeline, dot);
    case Arg::Kind::kFunction: {  // a function used as an operand, called without arguments
      auto result = Functions().at(arg.text)({});
      if (!result.ok()) return ExecError(pipeline, std::string(result.status().message()));
      return result;
    }
    case Arg::Kind::kField: break;
  }
  Value current{dot};
  for (const std::string& name : arg.path) {
    if (current.missing || current.json.is_null()) return Value{.missing = true};
    if (!current.json.is_object()) {
      return ExecError(pipeline, absl::StrCat("can't evaluate field ", name, " in type ",
                                              TypeName(current.json)));
    }
    if (!current.json.has_field(name)) return Value{.missing = true};
    current = Value{current.json.at(name)};
  }
  return current;
}

absl::StatusOr<Value> EvalCommand(const Pipeline& pipeline, const Command& command,
                                  const value& dot, const std::optional<Value>& piped) {
  const Arg& head = command.args.front();
  if (head.kind != Arg::Kind::kFunction) {
    if (command.args.size() > 1 || piped) {
      return ExecError(pipeline, "can't give argument to non-function");
    }
    return EvalArg(pipeline, head, dot);
  }
  std::vector<Value> args;
  for (size_t i = 1; i < command.args.size(); ++i) {
    auto arg = EvalArg(pipeline, command.args[i], dot);
    if (!arg.ok()) return arg.status();
    args.push_back(*std::move(arg));
  }
  if (piped) args.push_back(*piped);
  auto result = Functions().at(head.text)(args);
  if (!result.ok()) return ExecError(pipeline, std::string(result.status().message()));
  return result;
}

absl::StatusOr<Value> EvalPipeline(const Pipeline& pipeline, const value& dot) {
  std::optional<Value> result;
  for (const Command& command : pipeline.commands) {
    auto next = EvalCommand(pipeline, command, dot, result);
    if (!next.ok()) return next.status();
    result = *std::move(next);
  }
  return result.value_or(Value{.missing = true});
}

absl::Status ExecuteRange(const Node& node, const Value& over, std::string& out) {
  std::vector<value> elements;
  if (over.json.is_array()) {
    for (const value& element : over.json.as_array()) elements.push_back(element);
  } else if (over.json.is_object()) {
    std::vector<std::pair<std::string, value>> entries(over.json.as_object().begin(),
                                                       over.json.as_object().end());
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& entry : entries) elements.push_back(entry.second);
  } else if (!over.missing && !over.json.is_null()) {
    return ExecError(node.pipeline, absl::StrCat("range can't iterate over ", Text(over)));
  }
  if (elements.empty()) return ExecuteNodes(node.otherwise, over.json, out);
  for (const value& element : elements) {
    if (absl::Status status = ExecuteNodes(node.body, element, out); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

bool IsFunction(const std::string& name) { return Functions().contains(name); }

absl::Status ExecuteNodes(const std::vector<Node>& nodes, const value& dot, std::string& out) {
  for (const Node& node : nodes) {
    if (node.kind == Node::Kind::kText) {
      out += node.text;
      continue;
    }
    auto result = EvalPipeline(node.pipeline, dot);
    if (!result.ok()) return result.status();
    absl::Status status;
    switch (node.kind) {
      case Node::Kind::kAction: out += Text(*result); break;
      case Node::Kind::kIf:
        status = ExecuteNodes(Truth(*result) ? node.body : node.otherwise, dot, out);
        break;
      case Node::Kind::kWith:
        status = Truth(*result) ? ExecuteNodes(node.body, result->json, out)
                                : ExecuteNodes(node.otherwise, dot, out);
        break;
      case Node::Kind::kRange: status = ExecuteRange(node, *result, out); break;
      case Node::Kind::kText: break;
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace kim::cli::go_template
