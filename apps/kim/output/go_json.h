// JSON and plain values printed the way the Docker CLI's Go code prints them: encoding/json's
// Marshal / MarshalIndent (key order kept, `<`, `>`, `&` escaped as \u003c... when asked), and
// fmt's %v of decoded JSON (`[a b]`, `map[k:v]`, `<nil>`).
#ifndef KIM_APPS_KIM_OUTPUT_GO_JSON_H_
#define KIM_APPS_KIM_OUTPUT_GO_JSON_H_

#include <string>

#include <cpprest/json.h>

namespace kim::cli {

// How GoJson writes.
struct GoJsonStyle {
  std::string indent;        // "" = compact (json.Marshal); "    " = docker inspect's indent
  bool escape_html = false;  // json.Marshal's default; the Docker CLI's `json` template
                             // function turns it off
};

// `value` as Go's encoding/json writes it: objects in their stored order, integers without a
// fraction, empty arrays and objects as [] and {}, no trailing newline.
std::string GoJson(const web::json::value& value, const GoJsonStyle& style = {});

// `value` as Go's fmt.Sprint prints the same data decoded from JSON: strings bare, numbers,
// true/false, null as <nil>, arrays as [a b], objects as map[k:v] with sorted keys (an empty
// object inside another value as {}, like the struct{} Docker uses for ports and volumes).
std::string GoPrint(const web::json::value& value);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_GO_JSON_H_
