// The rows `kim images` shows: one per repository tag, in the Docker CLI's terms.
#ifndef KIM_APPS_KIM_OUTPUT_IMAGE_ROWS_H_
#define KIM_APPS_KIM_OUTPUT_IMAGE_ROWS_H_

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "kim/image_service.h"

namespace kim::cli {

// How `kim images` was asked to show the list.
struct ImageListView {
  bool all = false;       // -a: also images without tags
  bool digests = false;   // --digests
  bool no_trunc = false;  // --no-trunc
  bool quiet = false;     // -q
  std::string format;     // --format: "", "table", "json", or a template
  bool nodes = false;     // --all-nodes: a NODE column, one row per image and node
};

// One row: an image under one of its names.
struct ImageRow {
  std::string repository;  // familiar name, or "<none>"
  std::string tag;         // or "<none>"
  std::string digest;      // the repository's digest, or "<none>"
  std::string id;          // full "sha256:..."
  absl::Time created = absl::InfinitePast();
  uint64_t size = 0;
  std::string node;        // the node it is on (with --all-nodes), else ""
};

// The rows for `images`: one per repo tag; tag-less images (only digests, or nothing) get one
// `<none>` row each, shown only with `all`. Sorted newest first, then by repository and tag.
std::vector<ImageRow> ImageRows(const std::vector<Image>& images, bool all);

// The named fields of a row, as --format and --format json show them.
std::map<std::string, std::string> RowFields(const ImageRow& row, bool no_trunc, absl::Time now);

// Writes the list in the requested view. Returns InvalidArgument for a bad --format.
absl::Status WriteImageList(const std::vector<Image>& images, const ImageListView& view,
                            absl::Time now, std::ostream& out);

// The images of one node, for WriteNodeImageList.
struct NodeImages {
  std::string node;
  std::vector<Image> images;
};

// Writes the images of several nodes as one list, one row per image name and node (sorted as
// ImageRows sorts, then by node), with a NODE column in the default table and the field Node
// for --format. InvalidArgument for a bad --format.
absl::Status WriteNodeImageList(const std::vector<NodeImages>& nodes, const ImageListView& view,
                                absl::Time now, std::ostream& out);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_OUTPUT_IMAGE_ROWS_H_
