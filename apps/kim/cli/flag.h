// Flags as the kim CLI declares them: one table drives parsing (through cxxopts), defaults,
// environment fallbacks and the help text.
#ifndef KIM_APPS_KIM_CLI_FLAG_H_
#define KIM_APPS_KIM_CLI_FLAG_H_

#include <map>
#include <string>
#include <vector>

namespace kim::cli {

// The kind of value a flag takes; the help text names it the way cobra/pflag does.
enum class FlagType {
  kBool,         // no value; shown without a type
  kString,       // "string"
  kInt,          // "int"
  kDuration,     // "duration", e.g. 5m or 30s
  kStringArray,  // "stringArray": repeatable, values kept whole (commas are not split)
  kStringSlice,  // "strings": repeatable, each value also split at commas
};

// One flag of one command.
struct Flag {
  std::string name;           // long name without dashes, e.g. "build-arg"
  char shorthand = 0;         // one-letter form, 0 for none
  FlagType type = FlagType::kBool;
  std::string usage;          // one line of help
  std::string default_value;  // shown as (default ...) and used when the flag is absent
  std::string env;            // environment variable read when the flag is absent
  bool hidden = false;        // accepted but left out of help
  // The only values accepted (from the command line or the environment); empty = any.
  std::vector<std::string> choices;
};

// The values of every flag of an invocation, after defaults and environment fallbacks.
class FlagValues {
 public:
  // Records `values` for flag `name`; `explicitly` tells whether the user typed it.
  void Set(const std::string& name, std::vector<std::string> values, bool explicitly);

  // The flag's last value, or "" when it has none.
  std::string String(const std::string& name) const;
  // Every value the flag got, in order (for repeatable flags).
  std::vector<std::string> Strings(const std::string& name) const;
  // True when a bool flag is set (and not set to false).
  bool Bool(const std::string& name) const;
  // True when the user gave the flag on the command line (not a default or the environment).
  bool Changed(const std::string& name) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::map<std::string, bool> changed_;
};

// "string", "int", "stringArray"... as the help text shows a flag's type.
const char* FlagTypeName(FlagType type);

// True when the flag consumes a value.
inline bool TakesValue(const Flag& flag) { return flag.type != FlagType::kBool; }

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_CLI_FLAG_H_
