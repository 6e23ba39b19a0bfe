// `kim system df`: disk usage of the node's images and of BuildKit's build cache.
#include <ostream>

#include "absl/time/clock.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/output/disk_usage.h"

namespace kim::cli {
namespace {

int RunSystemDf(Invocation& invocation) {
  auto images = ConnectImageService(invocation.flags);
  if (!images.ok()) return ReportError(invocation, images.status());
  DiskUsage usage;
  auto listed = (*images)->List({});
  if (!listed.ok()) return ReportError(invocation, listed.status());
  usage.images = *std::move(listed);
  // What a prune -a would leave: the images containers use (nothing is removed).
  auto in_use = (*images)->Prune({.all = true, .dry_run = true});
  if (!in_use.ok()) return ReportError(invocation, in_use.status());
  usage.containers = in_use->containers;

  auto build = ConnectBuildService(invocation.flags);
  absl::StatusOr<std::vector<BuildCacheRecord>> cache =
      build.ok() ? (*build)->DiskUsage() : build.status();
  if (cache.ok()) {
    usage.cache = *std::move(cache);
  } else {
    *invocation.err << "Warning: no Build Cache row: " << cache.status().message() << "\n";
  }
  if (absl::Status status = WriteDiskUsage(usage, invocation.flags.Bool("verbose"),
                                           invocation.flags.String("format"), absl::Now(),
                                           *invocation.out);
      !status.ok()) {
    return ReportError(invocation, status);
  }
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewSystemDfCommand() {
  auto df = std::make_unique<Command>();
  df->name = "df";
  df->use = "[OPTIONS]";
  df->short_help = "Show kim disk usage";
  df->args = {.min = 0, .max = 0};
  df->flags = {
      {.name = "format", .type = FlagType::kString,
       .usage = "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or "
                "TEMPLATE ({{.Type}}, {{.TotalCount}}, {{.Active}}, {{.Size}}, {{.Reclaimable}})"},
      {.name = "verbose", .shorthand = 'v', .usage = "Show detailed information on space usage"},
  };
  df->run = RunSystemDf;
  return df;
}

}  // namespace kim::cli
