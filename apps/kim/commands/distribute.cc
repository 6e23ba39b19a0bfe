// `kim image distribute`: copies images that are on one node to the other nodes, agent to agent.
#include <unistd.h>

#include <algorithm>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/commands/nodes.h"
#include "apps/kim/output/progress_printer.h"

namespace kim::cli {
namespace {

// Whether `node` has every one of `images`.
bool HasAll(NodeImageService& node, const std::vector<std::string>& images) {
  if (node.service == nullptr) return false;
  for (const std::string& image : images) {
    if (!node.service->Status(image).ok()) return false;
  }
  return true;
}

// The node to copy from: --from, else the first builder node that has every image, else the
// first node that does.
absl::StatusOr<std::string> SourceNode(std::vector<NodeImageService>& nodes,
                                       const std::vector<std::string>& images,
                                       const std::string& from) {
  if (!from.empty()) return from;
  for (bool builders : {true, false}) {
    for (NodeImageService& node : nodes) {
      if ((!builders || node.agent.builder) && HasAll(node, images)) return node.agent.node;
    }
  }
  return absl::NotFoundError(absl::StrCat("no node has ",
                                          images.size() == 1 ? "image " : "every one of ",
                                          absl::StrJoin(images, ", "),
                                          " (see `kim images --all-nodes`)"));
}

int RunDistribute(Invocation& invocation) {
  for (const std::string& image : invocation.args) {
    if (absl::Status status = ValidateImageArgument(image); !status.ok()) {
      return ReportError(invocation, status);
    }
  }
  DistributeTargets targets{.all = true};
  if (invocation.flags.Changed("node")) {
    targets = {.nodes = invocation.flags.Strings("node")};
  }
  auto options = ConnectOptionsFrom(invocation.flags);
  if (!options.ok()) return ReportError(invocation, options.status());
  options->node.clear();  // --node names the receivers here, not the one node to act on
  auto nodes = ConnectNodeImageServices(*options);
  if (!nodes.ok()) return ReportError(invocation, nodes.status());
  auto source = SourceNode(*nodes, invocation.args, invocation.flags.String("from"));
  if (!source.ok()) return ReportError(invocation, source.status());
  auto from = std::find_if(nodes->begin(), nodes->end(),
                           [&](const NodeImageService& n) { return n.agent.node == *source; });
  if (from == nodes->end() || from->service == nullptr) {
    return ReportError(invocation, absl::UnavailableError(absl::StrCat(
        "cannot distribute from node \"", *source, "\": ",
        from == nodes->end() ? "it has no kim agent" : from->status.message())));
  }
  std::vector<NodeAgent> agents;
  for (const NodeImageService& node : *nodes) agents.push_back(node.agent);
  absl::Status status = DistributeImages(*from->service, agents,
                                         {.images = invocation.args,
                                          .source = *source,
                                          .targets = targets,
                                          .pin = invocation.flags.Bool("pin"),
                                          .tty = IsTerminal(STDOUT_FILENO)},
                                         *invocation.out);
  if (!status.ok()) return ReportError(invocation, status);
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewDistributeCommand() {
  auto distribute = std::make_unique<Command>();
  distribute->name = "distribute";
  distribute->use = "[OPTIONS] IMAGE [IMAGE...]";
  distribute->short_help = "Copy images from one node to the others, agent to agent";
  distribute->args = {.min = 1};
  distribute->flags = {
      {.name = "from", .type = FlagType::kString,
       .usage = "The node to copy from (default: a builder node that has the images, else any "
                "node that has them)"},
      {.name = "node", .type = FlagType::kStringSlice,
       .usage = "The nodes to copy to, repeatable or comma-separated (default: every other "
                "node)"},
      {.name = "pin", .usage = "Pin the images against the kubelet's image garbage collection "
                               "(containerd 1.7 and later) (default true)",
       .default_value = "true"},
  };
  distribute->run = RunDistribute;
  return distribute;
}

}  // namespace kim::cli
