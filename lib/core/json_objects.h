// JSON objects as Go's encoding/json reads them, for files that Go programs (the Docker CLI)
// write and read too.
#ifndef KIM_LIB_CORE_JSON_OBJECTS_H_
#define KIM_LIB_CORE_JSON_OBJECTS_H_

#include <cpprest/json.h>

namespace kim {

// `value` with every object, at any depth, holding each key once: the last of duplicate keys
// wins, as in Go. (cpprestsdk keeps duplicates and answers the first.)
web::json::value WithoutDuplicateKeys(const web::json::value& value);

}  // namespace kim

#endif  // KIM_LIB_CORE_JSON_OBJECTS_H_
