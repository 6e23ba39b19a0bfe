// `kim image rm` / `kim rmi`: untags or deletes images, every argument, like `docker rmi`, on
// every node that has them (a distributed image is on several).
#include <ostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/commands/nodes.h"
#include "kim/reference.h"

namespace kim::cli {
namespace {

// The status of `result` told with its node when there are several.
absl::Status OnNode(const absl::Status& status, const std::string& node, bool several) {
  if (!several || status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat("node ", node, ": ", status.message()));
}

int RunRemove(Invocation& invocation) {
  for (const std::string& image : invocation.args) {
    if (absl::Status status = ValidateImageArgument(image); !status.ok()) {
      return ReportError(invocation, status);
    }
  }
  auto nodes = ConnectNodes(invocation.flags);
  if (!nodes.ok()) return ReportError(invocation, nodes.status());
  const bool several = nodes->size() > 1;
  std::vector<std::vector<RemoveResult>> removed(nodes->size());
  ForEachReachableNode(*nodes, [&](size_t i) {
    removed[i] = (*nodes)[i].service->Remove(invocation.args, invocation.flags.Bool("force"));
  });
  int exit_code = kExitOk;
  for (size_t i = 0; i < nodes->size(); ++i) {
    if ((*nodes)[i].service == nullptr) {
      exit_code = ReportError(invocation, OnNode((*nodes)[i].status, (*nodes)[i].agent.node, true));
    }
  }
  for (size_t arg = 0; arg < invocation.args.size(); ++arg) {
    // Lines once, however many nodes printed them; "not found" only when no node had it.
    std::set<std::string> printed;
    bool found = false;
    absl::Status not_found;
    for (size_t i = 0; i < nodes->size(); ++i) {
      if (removed[i].size() <= arg) continue;
      const RemoveResult& result = removed[i][arg];
      for (const std::string& name : result.untagged) {
        // Docker shows names in their familiar form ("app:1", not "docker.io/library/app:1").
        auto ref = ImageReference::Parse(name);
        const std::string line = "Untagged: " + (ref.ok() ? ref->FamiliarString() : name);
        if (printed.insert(line).second) *invocation.out << line << "\n";
      }
      for (const std::string& id : result.deleted) {
        if (printed.insert("Deleted: " + id).second) *invocation.out << "Deleted: " << id << "\n";
      }
      if (absl::IsNotFound(result.status)) {
        if (not_found.ok()) not_found = result.status;
        continue;
      }
      found = true;
      if (!result.status.ok()) {
        exit_code =
            ReportError(invocation, OnNode(result.status, (*nodes)[i].agent.node, several));
      }
    }
    if (!found && !not_found.ok()) exit_code = ReportError(invocation, not_found);
  }
  return exit_code;
}

}  // namespace

std::unique_ptr<Command> NewRemoveCommand() {
  auto remove = std::make_unique<Command>();
  remove->name = "rm";
  remove->aliases = {"remove"};
  remove->use = "[OPTIONS] IMAGE [IMAGE...]";
  remove->short_help = "Remove an image";
  remove->args = {.min = 1};
  remove->flags = {
      {.name = "force", .shorthand = 'f', .usage = "Force removal of the image"},
      {.name = "node", .type = FlagType::kString,
       .usage = "Remove from this node only (default: from every node that has the image)"},
  };
  remove->run = RunRemove;
  return remove;
}

}  // namespace kim::cli
