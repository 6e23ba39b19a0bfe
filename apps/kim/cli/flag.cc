// FlagValues accessors and flag type names.
#include "apps/kim/cli/flag.h"

namespace kim::cli {

void FlagValues::Set(const std::string& name, std::vector<std::string> values, bool explicitly) {
  values_[name] = std::move(values);
  changed_[name] = explicitly;
}

std::string FlagValues::String(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return "";
  return it->second.back();
}

std::vector<std::string> FlagValues::Strings(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

bool FlagValues::Bool(const std::string& name) const {
  const std::string value = String(name);
  return !value.empty() && value != "false";
}

bool FlagValues::Changed(const std::string& name) const {
  auto it = changed_.find(name);
  return it != changed_.end() && it->second;
}

const char* FlagTypeName(FlagType type) {
  switch (type) {
    case FlagType::kBool:
      return "";
    case FlagType::kString:
      return "string";
    case FlagType::kInt:
      return "int";
    case FlagType::kDuration:
      return "duration";
    case FlagType::kStringArray:
      return "stringArray";
    case FlagType::kStringSlice:
      return "strings";
  }
  return "";
}

}  // namespace kim::cli
