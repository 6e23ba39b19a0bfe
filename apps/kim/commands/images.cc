// `kim image ls` / `kim images`: lists the builder node's images.
#include <ostream>

#include "absl/time/clock.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/commands/nodes.h"
#include "apps/kim/output/image_rows.h"
#include "apps/kim/output/template.h"

namespace kim::cli {
namespace {

// The fields --format may use, as `docker images` names them.
const std::vector<std::string>& ImageFields() {
  static const std::vector<std::string> fields = {
      "Repository", "Tag", "ID", "Digest", "CreatedSince", "CreatedAt", "Size", "Node"};
  return fields;
}

// Every node's images; a node whose agent cannot be reached is reported on stderr and left
// out (an error when no node answers).
absl::StatusOr<std::vector<NodeImages>> ListAllNodes(Invocation& invocation,
                                                     const ListOptions& options) {
  auto nodes = ConnectNodes(invocation.flags);
  if (!nodes.ok()) return nodes.status();
  std::vector<absl::StatusOr<std::vector<Image>>> listed(nodes->size(),
                                                          absl::UnknownError("not asked"));
  ForEachReachableNode(*nodes, [&](size_t i) { listed[i] = (*nodes)[i].service->List(options); });
  std::vector<NodeImages> out;
  absl::Status last;
  for (size_t i = 0; i < nodes->size(); ++i) {
    const std::string& node = (*nodes)[i].agent.node;
    absl::Status status = (*nodes)[i].service == nullptr ? (*nodes)[i].status : listed[i].status();
    if (!status.ok()) {
      *invocation.err << "WARNING: node " << node << " left out: " << status.message() << "\n";
      last = status;
      continue;
    }
    out.push_back({.node = node, .images = *std::move(listed[i])});
  }
  if (out.empty() && !last.ok()) return last;
  return out;
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
  const ImageListView view{.all = invocation.flags.Bool("all"),
                           .digests = invocation.flags.Bool("digests"),
                           .no_trunc = invocation.flags.Bool("no-trunc"),
                           .quiet = invocation.flags.Bool("quiet"),
                           .format = invocation.flags.String("format"),
                           .nodes = invocation.flags.Bool("all-nodes")};
  if (view.nodes) {
    if (invocation.flags.Changed("node")) {
      return UsageError(*invocation.command, "--all-nodes and --node cannot be used together",
                        *invocation.err);
    }
    auto nodes = ListAllNodes(invocation, options);
    if (!nodes.ok()) return ReportError(invocation, nodes.status());
    if (absl::Status status = WriteNodeImageList(*nodes, view, absl::Now(), *invocation.out);
        !status.ok()) {
      return ReportError(invocation, status);
    }
    return kExitOk;
  }
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  auto images = (*service)->List(options);
  if (!images.ok()) return ReportError(invocation, images.status());
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
      {.name = "all-nodes", .usage = "List the images of every node, with a NODE column"},
      {.name = "digests", .usage = "Show digests"},
      {.name = "format", .type = FlagType::kString,
       .usage = "Format output: table, json, or a template such as "
                "'{{.Repository}}:{{.Tag}}' (fields Repository, Tag, ID, Digest, CreatedSince, "
                "CreatedAt, Size, Node)"},
      {.name = "no-trunc", .usage = "Don't truncate output"},
      NodeFlag(),
      {.name = "quiet", .shorthand = 'q', .usage = "Only show image IDs"},
  };
  list->run = RunList;
  return list;
}

}  // namespace kim::cli
