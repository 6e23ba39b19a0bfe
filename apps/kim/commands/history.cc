// `kim image history` / `kim history`: the steps an image was built in, from its config, in
// `docker history`'s table.
#include <ostream>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/output/history_rows.h"

namespace kim::cli {
namespace {

int RunHistory(Invocation& invocation) {
  const HistoryView view{.human = invocation.flags.Bool("human"),
                         .no_trunc = invocation.flags.Bool("no-trunc"),
                         .quiet = invocation.flags.Bool("quiet"),
                         .format = invocation.flags.String("format")};
  if (absl::Status status = CheckHistoryFormat(view.format); !status.ok()) {
    return UsageError(*invocation.command,
                      "template parsing error: " + std::string(status.message()),
                      *invocation.err);
  }
  const std::string& image = invocation.args.front();
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  auto details = (*service)->Inspect(image);
  if (absl::IsNotFound(details.status()) &&
      absl::EndsWith(details.status().message(), ": not found")) {
    return ReportError(invocation, absl::NotFoundError("No such image: " + image));
  }
  if (!details.ok()) return ReportError(invocation, details.status());
  if (absl::Status status = WriteHistory(HistoryRows(*details), view, absl::Now(), *invocation.out);
      !status.ok()) {
    return ReportError(invocation, status);
  }
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewHistoryCommand() {
  auto history = std::make_unique<Command>();
  history->name = "history";
  history->use = "[OPTIONS] IMAGE";
  history->short_help = "Show the history of an image";
  history->args = {.min = 1, .max = 1};
  history->flags = {
      {.name = "format", .type = FlagType::kString,
       .usage = "Format output: table, json, or a Go template such as '{{.ID}}\\t{{.Size}}' "
                "(fields ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment)"},
      {.name = "human", .shorthand = 'H',
       .usage = "Print sizes and dates in human readable format (default true)",
       .default_value = "true"},
      {.name = "no-trunc", .usage = "Don't truncate output"},
      {.name = "quiet", .shorthand = 'q', .usage = "Only show image IDs"},
  };
  history->run = RunHistory;
  return history;
}

}  // namespace kim::cli
