// `kim builder prune`: removes BuildKit's build cache like `docker builder prune` (buildx).
#include <iostream>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/commands/prompt.h"
#include "apps/kim/output/table.h"
#include "absl/time/clock.h"
#include "kim/units.h"

namespace kim::cli {
namespace {

// --filter values: until=DURATION is BuildKit's keep duration; anything else is refused.
absl::Status ApplyFilters(const std::vector<std::string>& filters, BuildPruneOptions& options) {
  for (const std::string& filter : filters) {
    const size_t eq = filter.find('=');
    const std::string key = eq == std::string::npos ? filter : filter.substr(0, eq);
    if (key != "until" || eq == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid filter '", filter, "' (builder prune takes until=DURATION)"));
    }
    absl::Duration until;
    if (!absl::ParseDuration(filter.substr(eq + 1), &until) || until < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid until filter \"", filter.substr(eq + 1), "\": expected a duration such as 24h"));
    }
    options.keep_duration = until;
  }
  return absl::OkStatus();
}

int RunBuilderPrune(Invocation& invocation) {
  const FlagValues& flags = invocation.flags;
  BuildPruneOptions options{.all = flags.Bool("all")};
  if (absl::Status status = ApplyFilters(flags.Strings("filter"), options); !status.ok()) {
    return ReportError(invocation, status);
  }
  if (flags.Changed("keep-storage")) {
    auto keep = ParseSize(flags.String("keep-storage"));
    if (!keep.ok()) return ReportError(invocation, keep.status());
    options.keep_storage = *keep;
  }
  const std::string warning = options.all ? "WARNING! This will remove all build cache."
                                          : "WARNING! This will remove all dangling build cache.";
  if (!flags.Bool("force") &&
      !Confirm(absl::StrCat(warning, " Are you sure you want to continue?"), std::cin,
               *invocation.out)) {
    return kExitOk;
  }
  auto service = ConnectBuildService(flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  auto removed = (*service)->Prune(options);
  if (!removed.ok()) return ReportError(invocation, removed.status());
  std::ostream& out = *invocation.out;
  int64_t total = 0;
  if (!removed->empty()) {
    Table table(1, 3);
    table.AddRow({"ID", "RECLAIMABLE", "SIZE", "LAST ACCESSED"});
    const absl::Time now = absl::Now();
    for (const BuildCacheRecord& record : *removed) {
      total += record.size;
      table.AddRow({record.is_mutable ? absl::StrCat(record.id, "*") : record.id,
                    record.in_use ? "false" : "true", HumanSize(static_cast<double>(record.size)),
                    record.last_used == absl::InfinitePast() ? "" : TimeAgo(record.last_used, now)});
    }
    table.Write(out);
  }
  out << "Total:\t" << HumanSize(static_cast<double>(total)) << "\n";
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewBuilderPruneCommand() {
  auto prune = std::make_unique<Command>();
  prune->name = "prune";
  prune->use = "[OPTIONS]";
  prune->short_help = "Remove build cache";
  prune->args = {.min = 0, .max = 0};
  prune->flags = {
      {.name = "all", .shorthand = 'a', .usage = "Remove all unused build cache, not just dangling ones"},
      {.name = "filter", .type = FlagType::kStringArray,
       .usage = "Provide filter values (e.g. \"until=24h\")"},
      {.name = "force", .shorthand = 'f', .usage = "Do not prompt for confirmation"},
      {.name = "keep-storage", .type = FlagType::kString,
       .usage = "Amount of disk space to keep for cache", .default_value = "0"},
  };
  prune->run = RunBuilderPrune;
  return prune;
}

}  // namespace kim::cli
