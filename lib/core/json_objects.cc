// JSON objects with Go's rule for duplicate keys.
#include "lib/core/json_objects.h"

namespace kim {

web::json::value WithoutDuplicateKeys(const web::json::value& value) {
  if (value.is_array()) {
    web::json::value out = web::json::value::array(value.size());
    for (size_t i = 0; i < value.size(); ++i) out[i] = WithoutDuplicateKeys(value.at(i));
    return out;
  }
  if (!value.is_object()) return value;
  // cpprestsdk keeps equal keys in document order and operator[] finds the first: assigning in
  // order leaves each key once, holding its last value.
  web::json::value out = web::json::value::object();
  for (const auto& [key, member] : value.as_object()) out[key] = WithoutDuplicateKeys(member);
  return out;
}

}  // namespace kim
