// `kim images`: rows, fields, and the table / quiet / json / template views.
#include "apps/kim/output/image_rows.h"

#include <algorithm>
#include <ostream>
#include <set>

#include <cpprest/json.h>

#include "absl/time/clock.h"
#include "apps/kim/output/table.h"
#include "apps/kim/output/template.h"
#include "kim/digest.h"
#include "kim/reference.h"
#include "kim/units.h"

namespace kim::cli {
namespace {

constexpr char kNone[] = "<none>";

const std::vector<std::string>& Fields() {
  static const std::vector<std::string> fields = {
      "Repository", "Tag", "ID", "Digest", "CreatedSince", "CreatedAt", "Size", "Node"};
  return fields;
}

// The familiar repository of a "name:tag" or "name@digest" record, or "" when unparsable.
std::string FamiliarRepository(const std::string& name) {
  auto ref = ImageReference::Parse(name);
  return ref.ok() ? ref->FamiliarName() : "";
}

std::string DigestFor(const Image& image, const std::string& repository) {
  for (const std::string& record : image.repo_digests) {
    auto ref = ImageReference::Parse(record);
    if (ref.ok() && ref->FamiliarName() == repository && ref->HasDigest()) {
      return ref->Digest()->String();
    }
  }
  return kNone;
}

}  // namespace

std::vector<ImageRow> ImageRows(const std::vector<Image>& images, bool all) {
  std::vector<ImageRow> rows;
  for (const Image& image : images) {
    const ImageRow base{.id = image.id, .created = image.created, .size = image.size};
    for (const std::string& tag_record : image.repo_tags) {
      auto ref = ImageReference::Parse(tag_record);
      ImageRow row = base;
      row.repository = ref.ok() ? ref->FamiliarName() : tag_record;
      row.tag = ref.ok() && ref->HasTag() ? ref->Tag() : kNone;
      row.digest = DigestFor(image, row.repository);
      rows.push_back(std::move(row));
    }
    if (!image.repo_tags.empty() || !all) continue;
    ImageRow row = base;
    row.repository = kNone;
    row.tag = kNone;
    row.digest = kNone;
    if (!image.repo_digests.empty()) {
      const std::string repository = FamiliarRepository(image.repo_digests.front());
      if (!repository.empty()) {
        row.repository = repository;
        row.digest = DigestFor(image, repository);
      }
    }
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const ImageRow& a, const ImageRow& b) {
    if (a.created != b.created) return a.created > b.created;
    if (a.repository != b.repository) return a.repository < b.repository;
    return a.tag < b.tag;
  });
  return rows;
}

std::map<std::string, std::string> RowFields(const ImageRow& row, bool no_trunc, absl::Time now) {
  const bool known_time = row.created != absl::InfinitePast();
  return {
      {"Repository", row.repository},
      {"Tag", row.tag},
      {"ID", no_trunc ? row.id : ShortImageId(row.id)},
      {"Digest", row.digest},
      {"CreatedSince", known_time ? TimeAgo(row.created, now) : "N/A"},
      {"CreatedAt", known_time ? absl::FormatTime("%Y-%m-%d %H:%M:%S %z %Z", row.created,
                                                  absl::LocalTimeZone())
                               : "N/A"},
      {"Size", HumanSizeWithPrecision(static_cast<double>(row.size), 3)},
      {"Node", row.node},
  };
}

namespace {

// Writes `rows` in the requested view.
absl::Status WriteRows(const std::vector<ImageRow>& rows, const ImageListView& view,
                       absl::Time now, std::ostream& out) {
  auto format = RowTemplate::Parse(view.format, Fields());
  if (!format.ok()) return format.status();

  if (view.quiet) {  // one ID per image, in row order, without repeats
    std::set<std::string> seen;
    for (const ImageRow& row : rows) {
      if (seen.insert(row.id).second) out << (view.no_trunc ? row.id : ShortImageId(row.id)) << "\n";
    }
    return absl::OkStatus();
  }
  if (format->kind() == RowTemplate::Kind::kJson) {
    for (const ImageRow& row : rows) {
      web::json::value object = web::json::value::object(true);
      for (const auto& [name, value] : RowFields(row, view.no_trunc, now)) {
        if (name == "Node" && value.empty()) continue;  // one node's list reads as Docker's
        object[name] = web::json::value::string(value);
      }
      out << object.serialize() << "\n";
    }
    return absl::OkStatus();
  }
  if (format->kind() == RowTemplate::Kind::kText) {
    for (const ImageRow& row : rows) out << format->Render(RowFields(row, view.no_trunc, now)) << "\n";
    return absl::OkStatus();
  }

  std::vector<std::string> columns = format->used_fields();
  if (format->is_default_table()) {  // the original kim's table
    columns = {"Repository", "Tag"};
    if (view.nodes) columns.insert(columns.begin(), "Node");
    if (view.digests) columns.push_back("Digest");
    columns.insert(columns.end(), {"ID", "Size"});
  }
  static const std::map<std::string, std::string> kHeaders = {
      {"Repository", "IMAGE"},     {"Tag", "TAG"},         {"ID", "IMAGE ID"},
      {"Digest", "DIGEST"},        {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"},
      {"Size", "SIZE"},            {"Node", "NODE"}};
  Table table;
  std::vector<std::string> header;
  for (const std::string& column : columns) header.push_back(kHeaders.at(column));
  table.AddRow(header);
  for (const ImageRow& row : rows) {
    const auto fields = RowFields(row, view.no_trunc, now);
    std::vector<std::string> cells;
    for (const std::string& column : columns) cells.push_back(fields.at(column));
    table.AddRow(std::move(cells));
  }
  table.Write(out);
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteImageList(const std::vector<Image>& images, const ImageListView& view,
                            absl::Time now, std::ostream& out) {
  return WriteRows(ImageRows(images, view.all), view, now, out);
}

absl::Status WriteNodeImageList(const std::vector<NodeImages>& nodes, const ImageListView& view,
                                absl::Time now, std::ostream& out) {
  std::vector<ImageRow> rows;
  for (const NodeImages& node : nodes) {
    for (ImageRow& row : ImageRows(node.images, view.all)) {
      row.node = node.node;
      rows.push_back(std::move(row));
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const ImageRow& a, const ImageRow& b) {
    if (a.created != b.created) return a.created > b.created;
    if (a.repository != b.repository) return a.repository < b.repository;
    if (a.tag != b.tag) return a.tag < b.tag;
    return a.node < b.node;
  });
  return WriteRows(rows, view, now, out);
}

}  // namespace kim::cli
