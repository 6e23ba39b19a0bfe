// Parsing the text/template subset: split into text and {{actions}}, tokenize each action, build
// the tree of if/range/with blocks.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "apps/kim/output/go_template_ast.h"

namespace kim::cli {
namespace {

using go_template::Arg;
using go_template::Command;
using go_template::Pipeline;
using Node = GoTemplate::Node;

absl::Status ParseError(int line, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("template: :", line, ": ", message));
}

// A piece of the template before parsing: literal text or the inside of one {{action}}.
struct Item {
  bool is_action = false;
  std::string text;
  int line = 1;
};

int LineAt(std::string_view text, size_t pos) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
}

// Splits `text` at {{ and }}, applying the "{{- " and " -}}" trim markers.
absl::StatusOr<std::vector<Item>> Split(std::string_view text) {
  std::vector<Item> items;
  size_t pos = 0;
  bool trim_next = false;
  while (pos <= text.size()) {
    const size_t open = text.find("{{", pos);
    std::string literal(text.substr(pos, open == std::string_view::npos ? open : open - pos));
    if (trim_next) literal = std::string(absl::StripLeadingAsciiWhitespace(literal));
    trim_next = false;
    if (open == std::string_view::npos) {
      if (!literal.empty()) items.push_back({false, literal, LineAt(text, pos)});
      break;
    }
    size_t start = open + 2;
    if (text.substr(start, 2) == "- " || text.substr(start).starts_with("-\t") ||
        text.substr(start).starts_with("-\n")) {
      literal = std::string(absl::StripTrailingAsciiWhitespace(literal));
      start += 1;
    }
    if (!literal.empty()) items.push_back({false, literal, LineAt(text, pos)});
    const size_t close = text.find("}}", start);
    if (close == std::string_view::npos) return ParseError(LineAt(text, open), "unclosed action");
    size_t end = close;
    if (end > start && text[end - 1] == '-' && end - 1 > start &&
        absl::ascii_isspace(static_cast<unsigned char>(text[end - 2]))) {
      trim_next = true;
      end -= 1;
    }
    items.push_back({true, std::string(text.substr(start, end - start)), LineAt(text, open)});
    pos = close + 2;
  }
  return items;
}

// Tokens of one action.
struct Token {
  enum class Kind { kField, kString, kNumber, kIdentifier, kPipe, kOpen, kClose };
  Kind kind;
  std::string text;
};

absl::StatusOr<std::vector<Token>> Tokenize(const std::string& action, int line) {
  std::vector<Token> tokens;
  size_t i = 0;
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < action.size()) {
    const char c = action[i];
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) { ++i; continue; }
    if (c == '|') { tokens.push_back({Token::Kind::kPipe, "|"}); ++i; continue; }
    if (c == '(') { tokens.push_back({Token::Kind::kOpen, "("}); ++i; continue; }
    if (c == ')') { tokens.push_back({Token::Kind::kClose, ")"}); ++i; continue; }
    if (c == '"' || c == '`') {
      std::string value;
      size_t j = i + 1;
      for (; j < action.size() && action[j] != c; ++j) {
        if (c == '"' && action[j] == '\\' && j + 1 < action.size()) {
          const char e = action[++j];
          value += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        } else {
          value += action[j];
        }
      }
      if (j >= action.size()) return ParseError(line, "unterminated quoted string");
      tokens.push_back({Token::Kind::kString, value});
      i = j + 1;
      continue;
    }
    if (c == '.') {
      size_t j = i + 1;
      while (j < action.size() && (ident(action[j]) || action[j] == '.')) ++j;
      tokens.push_back({Token::Kind::kField, action.substr(i, j - i)});
      i = j;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '-' && i + 1 < action.size() && std::isdigit(static_cast<unsigned char>(action[i + 1])))) {
      size_t j = i + 1;
      while (j < action.size() && (std::isalnum(static_cast<unsigned char>(action[j])) || action[j] == '.')) ++j;
      tokens.push_back({Token::Kind::kNumber, action.substr(i, j - i)});
      i = j;
      continue;
    }
    if (ident(c)) {
      size_t j = i;
      while (j < action.size() && ident(action[j])) ++j;
      tokens.push_back({Token::Kind::kIdentifier, action.substr(i, j - i)});
      i = j;
      continue;
    }
    if (c == '$') return ParseError(line, "variables ($...) are not supported by kim's --format");
    return ParseError(line, absl::StrCat("unexpected \"", std::string(1, c), "\" in command"));
  }
  return tokens;
}

// Recursive descent over the tokens of one action.
class PipelineParser {
 public:
  PipelineParser(const std::vector<Token>& tokens, size_t start, int line)
      : tokens_(tokens), pos_(start), line_(line) {}

  absl::StatusOr<Pipeline> Parse(bool nested) {
    Pipeline pipeline{.line = line_};
    while (true) {
      Command command;
      while (pos_ < tokens_.size() && tokens_[pos_].kind != Token::Kind::kPipe &&
             tokens_[pos_].kind != Token::Kind::kClose) {
        auto arg = ParseArg();
        if (!arg.ok()) return arg.status();
        command.args.push_back(*std::move(arg));
      }
      if (command.args.empty()) return ParseError(line_, "missing value for command");
      pipeline.commands.push_back(std::move(command));
      if (pos_ < tokens_.size() && tokens_[pos_].kind == Token::Kind::kPipe) {
        ++pos_;
        continue;
      }
      break;
    }
    if (nested) {
      if (pos_ >= tokens_.size()) return ParseError(line_, "unclosed left paren");
      ++pos_;  // ')'
    } else if (pos_ < tokens_.size()) {
      return ParseError(line_, "unexpected right paren");
    }
    return pipeline;
  }

 private:
  absl::StatusOr<Arg> ParseArg() {
    const Token& token = tokens_[pos_++];
    Arg arg;
    switch (token.kind) {
      case Token::Kind::kField:
        arg.kind = Arg::Kind::kField;
        for (absl::string_view part : absl::StrSplit(token.text.substr(1), '.')) {
          if (part.empty()) {
            if (token.text == ".") break;
            return ParseError(line_, absl::StrCat("bad field \"", token.text, "\""));
          }
          arg.path.emplace_back(part);
        }
        return arg;
      case Token::Kind::kString:
        arg.kind = Arg::Kind::kString;
        arg.text = token.text;
        return arg;
      case Token::Kind::kNumber: {
        char* end = nullptr;
        arg.number = std::strtod(token.text.c_str(), &end);
        if (end == nullptr || *end != '\0') {
          return ParseError(line_, absl::StrCat("bad number syntax: \"", token.text, "\""));
        }
        arg.kind = Arg::Kind::kNumber;
        arg.text = token.text;
        return arg;
      }
      case Token::Kind::kIdentifier:
        if (token.text == "true" || token.text == "false") {
          arg.kind = Arg::Kind::kBool;
          arg.boolean = token.text == "true";
        } else if (token.text == "nil") {
          arg.kind = Arg::Kind::kNil;
        } else if (go_template::IsFunction(token.text)) {
          arg.kind = Arg::Kind::kFunction;
          arg.text = token.text;
        } else {
          return ParseError(line_, absl::StrCat("function \"", token.text, "\" not defined"));
        }
        return arg;
      case Token::Kind::kOpen: {
        auto inner = Parse(true);
        if (!inner.ok()) return inner.status();
        arg.kind = Arg::Kind::kPipeline;
        arg.pipeline = std::make_shared<Pipeline>(*std::move(inner));
        return arg;
      }
      default:
        return ParseError(line_, absl::StrCat("unexpected \"", token.text, "\" in command"));
    }
  }

  const std::vector<Token>& tokens_;
  size_t pos_;
  int line_;
};

// Builds the node tree from the items, block by block.
class TreeParser {
 public:
  explicit TreeParser(std::vector<Item> items) : items_(std::move(items)) {}

  // Parses nodes up to {{end}} / {{else}} (returned in `stop`) or the end of the template.
  absl::Status ParseList(std::vector<Node>& nodes, std::string& stop) {
    while (pos_ < items_.size()) {
      const Item& item = items_[pos_++];
      if (!item.is_action) {
        nodes.push_back({.kind = Node::Kind::kText, .text = item.text});
        continue;
      }
      const std::string action(absl::StripAsciiWhitespace(item.text));
      if (action.starts_with("/*")) continue;  // a comment
      auto tokens = Tokenize(action, item.line);
      if (!tokens.ok()) return tokens.status();
      if (tokens->empty()) return ParseError(item.line, "missing value for command");
      const Token& first = tokens->front();
      const bool keyword = first.kind == Token::Kind::kIdentifier;
      if (keyword && (first.text == "end" || first.text == "else")) {
        if (tokens->size() > 1) {
          return ParseError(item.line, absl::StrCat("unexpected \"", (*tokens)[1].text,
                                                    "\" in ", first.text));
        }
        stop = first.text;
        line_ = item.line;
        return absl::OkStatus();
      }
      Node node{.kind = Node::Kind::kAction};
      size_t start = 0;
      if (keyword && (first.text == "if" || first.text == "range" || first.text == "with")) {
        node.kind = first.text == "if"      ? Node::Kind::kIf
                    : first.text == "range" ? Node::Kind::kRange
                                            : Node::Kind::kWith;
        start = 1;
      } else if (keyword && (first.text == "define" || first.text == "template" ||
                             first.text == "block")) {
        return ParseError(item.line, absl::StrCat("{{", first.text, "}} is not supported by kim"));
      }
      auto pipeline = PipelineParser(*tokens, start, item.line).Parse(false);
      if (!pipeline.ok()) return pipeline.status();
      node.pipeline = *std::move(pipeline);
      node.pipeline.source = action;
      if (node.kind != Node::Kind::kAction) {
        if (absl::Status status = ParseBlock(node, first.text, item.line); !status.ok()) {
          return status;
        }
      }
      nodes.push_back(std::move(node));
    }
    stop.clear();
    return absl::OkStatus();
  }

 private:
  absl::Status ParseBlock(Node& node, const std::string& keyword, int line) {
    std::string stop;
    if (absl::Status status = ParseList(node.body, stop); !status.ok()) return status;
    if (stop == "else") {
      if (absl::Status status = ParseList(node.otherwise, stop); !status.ok()) return status;
      if (stop == "else") return ParseError(line_, "expected end; found {{else}}");
    }
    if (stop != "end") return ParseError(line, absl::StrCat("unexpected EOF in ", keyword));
    return absl::OkStatus();
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace

absl::StatusOr<GoTemplate> GoTemplate::Parse(std::string_view text) {
  auto items = Split(text);
  if (!items.ok()) return items.status();
  TreeParser parser(*std::move(items));
  auto nodes = std::make_shared<std::vector<Node>>();
  std::string stop;
  if (absl::Status status = parser.ParseList(*nodes, stop); !status.ok()) return status;
  if (!stop.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("template: :1: unexpected {{", stop, "}}"));
  }
  GoTemplate parsed;
  parsed.nodes_ = std::move(nodes);
  return parsed;
}

absl::StatusOr<std::string> GoTemplate::Execute(const web::json::value& data) const {
  std::string out;
  if (nodes_) {
    if (absl::Status status = go_template::ExecuteNodes(*nodes_, data, out); !status.ok()) {
      return status;
    }
  }
  return out;
}

}  // namespace kim::cli
