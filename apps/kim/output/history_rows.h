// `kim history`: the rows `docker history` shows for an image, from its config's "history",
// and the table / quiet / json / template views of them.
#ifndef KIM_APPS_KIM_OUTPUT_HISTORY_ROWS_H_
#define KIM_APPS_KIM_OUTPUT_HISTORY_ROWS_H_

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "kim/image_service.h"

namespace kim::cli {

// One step of an image's history.
struct HistoryRow {
  std::string id;  // the image ID on the newest row, "<missing>" on the others
  absl::Time created = absl::InfinitePast();
  std::string created_by;
  int64_t size = 0;  // the step's layer: unpacked size when known, else compressed; 0 if none
  std::string comment;
};

// The rows of `details`, newest first: one per entry of the config's "history"; the entries
// that are not empty_layer take the layers in order. A config without history gives one row
// per layer (newest first) with no date or command.
std::vector<HistoryRow> HistoryRows(const ImageDetails& details);

// How `kim history` was asked to show the rows.
struct HistoryView {
  bool human = true;      // -H: sizes and dates for people (false: bytes and RFC 3339)
  bool no_trunc = false;  // --no-trunc: full IDs and commands
  bool quiet = false;     // -q: IDs only
  std::string format;     // --format: "", "table", "table TEMPLATE", "json" or a template
};

// The fields --format offers, Docker's names.
const std::vector<std::string>& HistoryFields();

// Checks a --format value before anything is contacted: InvalidArgument in Go's words when
// its template does not parse.
absl::Status CheckHistoryFormat(const std::string& format);

// Writes the rows in the requested view (Docker's table: IMAGE, CREATED, CREATED BY, SIZE,
// COMMENT; CREATED BY cut to 45 characters ending in "…" unless no_trunc). InvalidArgument for
// a template that does not parse or run.
absl::Status WriteHistory(const std::vector<HistoryRow>& rows, const HistoryView& view,
                          absl::Time now, std::ostream& out);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_HISTORY_ROWS_H_
