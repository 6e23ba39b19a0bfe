// The parsed form of a GoTemplate, shared by its parser (go_template.cc) and its evaluator
// (go_template_eval.cc). Internal to apps/kim/output.
#ifndef KIM_APPS_KIM_OUTPUT_GO_TEMPLATE_AST_H_
#define KIM_APPS_KIM_OUTPUT_GO_TEMPLATE_AST_H_

#include <memory>
#include <string>
#include <vector>

#include "apps/kim/output/go_template.h"

namespace kim::cli::go_template {

struct Pipeline;

// One operand of a command: a field chain, a literal, a function name or a parenthesised
// pipeline.
struct Arg {
  enum class Kind { kField, kString, kNumber, kBool, kNil, kFunction, kPipeline };
  Kind kind = Kind::kField;
  std::vector<std::string> path;  // kField: the names after the dot; empty for "."
  std::string text;               // kString: the value; kFunction: the name; kNumber: as written
  double number = 0;
  bool boolean = false;
  std::shared_ptr<Pipeline> pipeline;  // kPipeline
};

// A function call (first arg kFunction) or a single operand.
struct Command {
  std::vector<Arg> args;
};

// Commands joined by '|': each one's result is the last argument of the next.
struct Pipeline {
  std::vector<Command> commands;
  std::string source;  // the action's text, for error messages
  int line = 1;
};

// True when `name` is one of the functions the evaluator provides.
bool IsFunction(const std::string& name);

// Runs `nodes` with `dot`, appending to `out`.
absl::Status ExecuteNodes(const std::vector<GoTemplate::Node>& nodes,
                          const web::json::value& dot, std::string& out);

}  // namespace kim::cli::go_template

namespace kim::cli {

// A piece of text, an action, or a control structure with its branches.
struct GoTemplate::Node {
  enum class Kind { kText, kAction, kIf, kRange, kWith };
  Kind kind = Kind::kText;
  std::string text;                  // kText
  go_template::Pipeline pipeline;    // everything else
  std::vector<Node> body;            // kIf, kRange, kWith
  std::vector<Node> otherwise;       // their {{else}} branch
};

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_GO_TEMPLATE_AST_H_
