// `kim image ls` / `kim images`: lists the builder node's images.
#include <ostream>

#include "absl/time/clock.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/output/image_rows.h"
#include "apps/kim/output/template.h"

namespace kim::cli {
namespace {

// The fields --format may use, as `docker images` names them.
const std::vector<std::string>& ImageFields() {
  static const std::vector<std::string> fields = {
      "Repository", "Tag", "ID", "Digest", "CreatedSince", "CreatedAt", "Size"};
  return fields;
}

int RunList(Invocation& invocation) {
  auto format = RowTemplate::Parse(invocation.flags.String("format"), ImageFields());
  if (!format.ok()) return ReportError(invocation, format.status());
  ListOptions options;
  for (const std::string& filter : invocation.args) {
    if (absl::Status status = ValidateImageArgument(filter); !status.ok()) {
      return ReportError(invocation, status);
    }
    options.filters.push_back(filter);
  }
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  auto images = (*service)->List(options);
  if (!images.ok()) return ReportError(invocation, images.status());
  const ImageListView view{.all = invocation.flags.Bool("all"),
                           .digests = invocation.flags.Bool("digests"),
                           .no_trunc = invocation.flags.Bool("no-trunc"),
                           .quiet = invocation.flags.Bool("quiet"),
                           .format = invocation.flags.String("format")};
  if (absl::Status status = WriteImageList(*images, view, absl::Now(), *invocation.out);
      !status.ok()) {
    return ReportError(invocation, status);
  }
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewListCommand() {
  auto list = std::make_unique<Command>();
  list->name = "ls";
  list->aliases = {"list"};
  list->use = "[OPTIONS] [REPOSITORY[:TAG]]";
  list->short_help = "List images";
  list->args = {.min = 0, .max = 1};
  list->flags = {
      {.name = "all", .shorthand = 'a',
       .usage = "Show all images (default hides intermediate, untagged images)"},
      {.name = "digests", .usage = "Show digests"},
      {.name = "format", .type = FlagType::kString,
       .usage = "Format output: table, json, or a template such as "
                "'{{.Repository}}:{{.Tag}}' (fields Repository, Tag, ID, Digest, CreatedSince, "
                "CreatedAt, Size)"},
      {.name = "no-trunc", .usage = "Don't truncate output"},
      {.name = "quiet", .shorthand = 'q', .usage = "Only show image IDs"},
  };
  list->run = RunList;
  return list;
}

}  // namespace kim::cli
