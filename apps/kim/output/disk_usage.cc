// Docker's `system df` tables.
#include "apps/kim/output/disk_usage.h"

#include <cpprest/json.h>

#include "absl/strings/str_cat.h"
#include "apps/kim/output/image_rows.h"
#include "apps/kim/output/table.h"
#include "apps/kim/output/template.h"
#include "kim/digest.h"
#include "kim/units.h"

namespace kim::cli {
namespace {

std::string Size(double bytes) { return HumanSize(bytes); }

std::map<std::string, std::string> ImagesRow(const DiskUsage& usage) {
  uint64_t total = 0, used = 0;
  int active = 0;
  for (const Image& image : usage.images) {
    total += image.size;
    if (auto it = usage.containers.find(image.id); it != usage.containers.end() && it->second > 0) {
      ++active;
      used += image.size;
    }
  }
  const uint64_t reclaimable = total - used;
  std::string reclaim = Size(static_cast<double>(reclaimable));
  if (total > 0) absl::StrAppend(&reclaim, " (", reclaimable * 100 / total, "%)");
  return {{"Type", "Images"},
          {"TotalCount", absl::StrCat(usage.images.size())},
          {"Active", absl::StrCat(active)},
          {"Size", Size(static_cast<double>(total))},
          {"Reclaimable", reclaim}};
}

std::map<std::string, std::string> CacheRow(const std::vector<BuildCacheRecord>& cache) {
  int64_t size = 0, reclaimable = 0;
  int active = 0;
  for (const BuildCacheRecord& record : cache) {
    if (record.in_use) ++active;
    if (record.shared) continue;  // counted with the record it shares data with
    size += record.size;
    if (!record.in_use) reclaimable += record.size;
  }
  return {{"Type", "Build Cache"},
          {"TotalCount", absl::StrCat(cache.size())},
          {"Active", absl::StrCat(active)},
          {"Size", Size(static_cast<double>(size))},
          {"Reclaimable", Size(static_cast<double>(reclaimable))}};
}

const std::vector<std::string>& Fields() {
  static const std::vector<std::string> fields = {"Type", "TotalCount", "Active", "Size",
                                                  "Reclaimable"};
  return fields;
}

void WriteVerbose(const DiskUsage& usage, absl::Time now, std::ostream& out) {
  out << "Images space usage:\n\n";
  Table images(10, 3);
  images.AddRow({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "CONTAINERS"});
  for (const ImageRow& row : ImageRows(usage.images, /*all=*/true)) {
    auto it = usage.containers.find(row.id);
    images.AddRow({row.repository, row.tag, ShortImageId(row.id), TimeAgo(row.created, now),
                   HumanSizeWithPrecision(static_cast<double>(row.size), 3),
                   absl::StrCat(it == usage.containers.end() ? 0 : it->second)});
  }
  images.Write(out);
  if (!usage.cache) return;
  int64_t size = 0;
  for (const BuildCacheRecord& record : *usage.cache) size += record.shared ? 0 : record.size;
  out << "\nBuild cache usage: " << Size(static_cast<double>(size)) << "\n\n";
  Table cache(10, 3);
  cache.AddRow({"CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"});
  for (const BuildCacheRecord& record : *usage.cache) {
    cache.AddRow({record.id.substr(0, 12), record.type, Size(static_cast<double>(record.size)),
                  TimeAgo(record.created, now),
                  record.last_used == absl::InfinitePast() ? "" : TimeAgo(record.last_used, now),
                  absl::StrCat(record.usage_count), record.shared ? "true" : "false"});
  }
  cache.Write(out);
}

}  // namespace

std::vector<std::map<std::string, std::string>> DiskUsageRows(const DiskUsage& usage) {
  std::vector<std::map<std::string, std::string>> rows = {ImagesRow(usage)};
  if (usage.cache) rows.push_back(CacheRow(*usage.cache));
  return rows;
}

absl::Status WriteDiskUsage(const DiskUsage& usage, bool verbose, const std::string& format,
                            absl::Time now, std::ostream& out) {
  auto parsed = RowTemplate::Parse(format, Fields());
  if (!parsed.ok()) return parsed.status();
  if (verbose && format.empty()) {
    WriteVerbose(usage, now, out);
    return absl::OkStatus();
  }
  const auto rows = DiskUsageRows(usage);
  if (parsed->kind() == RowTemplate::Kind::kJson) {
    for (const auto& row : rows) {
      web::json::value object = web::json::value::object(true);
      for (const auto& [name, value] : row) object[name] = web::json::value::string(value);
      out << object.serialize() << "\n";
    }
    return absl::OkStatus();
  }
  if (parsed->kind() == RowTemplate::Kind::kText) {
    for (const auto& row : rows) out << parsed->Render(row) << "\n";
    return absl::OkStatus();
  }
  std::vector<std::string> columns = parsed->used_fields();
  if (parsed->is_default_table()) columns = Fields();
  static const std::map<std::string, std::string> kHeaders = {
      {"Type", "TYPE"}, {"TotalCount", "TOTAL"}, {"Active", "ACTIVE"},
      {"Size", "SIZE"}, {"Reclaimable", "RECLAIMABLE"}};
  Table table(10, 3);
  std::vector<std::string> header;
  for (const std::string& column : columns) header.push_back(kHeaders.at(column));
  table.AddRow(header);
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (const std::string& column : columns) cells.push_back(row.at(column));
    table.AddRow(std::move(cells));
  }
  table.Write(out);
  return absl::OkStatus();
}

}  // namespace kim::cli
