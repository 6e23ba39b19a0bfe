// Small builders for the JSON objects the installer writes (order-preserving objects, so that
// hashes are stable and output reads as written). Internal to libkim.
#ifndef KIM_LIB_KUBE_JSON_BUILD_H_
#define KIM_LIB_KUBE_JSON_BUILD_H_

#include <string>
#include <utility>
#include <vector>

#include "lib/kube/client.h"

namespace kim::kube::json {

using Fields = std::vector<std::pair<std::string, Json>>;

// An object with `fields` in this order.
inline Json Obj(Fields fields) {
  Json out = Json::object(true);  // keep insertion order: stable hashes and readable output
  for (auto& [key, value] : fields) out[key] = std::move(value);
  return out;
}
// A JSON string, number, array, or array of strings.
inline Json Str(const std::string& s) { return Json::string(s); }
inline Json Num(int n) { return Json::number(n); }
inline Json Arr(std::vector<Json> items) { return Json::array(std::move(items)); }
inline Json Strs(const std::vector<std::string>& items) {
  std::vector<Json> out;
  for (const auto& item : items) out.push_back(Str(item));
  return Arr(std::move(out));
}

}  // namespace kim::kube::json

#endif  // KIM_LIB_KUBE_JSON_BUILD_H_
