// `-o type=oci,dest=DIR,tar=false`: an OCI image layout directory written on this machine. The
// daemon writes the blobs through the session's content store (containerd's Content.Write, store
// id "export"); after the build kim records the image in DIR/index.json.
#ifndef KIM_LIB_BUILD_OCI_LAYOUT_H_
#define KIM_LIB_BUILD_OCI_LAYOUT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/build/session_server.h"

namespace kim::build {

// Content.Write for the session content store `store_id`, writing verified blobs to
// `directory`/blobs/<algorithm>/<hex> (a blob already there is answered AlreadyExists, so the
// daemon skips it). Other Content methods are not served.
std::vector<SessionMethod> ContentStoreMethods(std::string store_id, std::string directory);

// Writes `directory`/oci-layout and adds the image to `directory`/index.json (kept entries of
// other names). `descriptor_json` is the exporter's descriptor of the image (manifest or index);
// each of `names` (full references) becomes an entry annotated with the name and its tag.
// The index.json AddToOciIndex writes: `existing` (an index.json's text, "" when there is none)
// with the entries already naming one of `names` replaced by the exporter's descriptor under
// each name (or one unnamed entry). InvalidArgument when `existing` is not an index or the
// descriptor has no digest or media type.
absl::StatusOr<std::string> MergeOciIndex(std::string_view existing,
                                          const std::string& descriptor_json,
                                          const std::vector<std::string>& names);

absl::Status AddToOciIndex(const std::string& directory, const std::string& descriptor_json,
                           const std::vector<std::string>& names);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_OCI_LAYOUT_H_
