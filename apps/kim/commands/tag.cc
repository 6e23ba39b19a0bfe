// `kim image tag` / `kim tag`: gives an image further names, on every node that has it.
#include <ostream>

#include "absl/strings/str_cat.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/commands/nodes.h"
#include "kim/reference.h"

namespace kim::cli {
namespace {

int RunTag(Invocation& invocation) {
  const std::string& source = invocation.args.front();
  if (absl::Status status = ValidateImageArgument(source); !status.ok()) {
    return ReportError(invocation, status);
  }
  std::vector<std::string> targets;
  for (size_t i = 1; i < invocation.args.size(); ++i) {
    auto ref = ImageReference::ParseNormalized(invocation.args[i]);
    if (!ref.ok()) return ReportError(invocation, ref.status());
    if (ref->HasDigest()) {
      return ReportError(invocation, absl::InvalidArgumentError(absl::StrCat(
                                         "refusing to create a tag with a digest reference: \"",
                                         invocation.args[i], "\"")));
    }
    targets.push_back(ref->WithDefaultTag().String());
  }
  auto nodes = ConnectNodes(invocation.flags);
  if (!nodes.ok()) return ReportError(invocation, nodes.status());
  // Every node that has the image gets the names (a distributed image is on several).
  std::vector<absl::Status> tagged(nodes->size(), absl::NotFoundError("not asked"));
  ForEachReachableNode(*nodes, [&](size_t i) {
    ImageService& service = *(*nodes)[i].service;
    absl::Status has = service.Status(source).status();
    tagged[i] = has.ok() ? service.Tag(source, targets).status() : has;
  });
  int exit_code = kExitOk;
  bool done_somewhere = false;
  absl::Status not_found;
  for (size_t i = 0; i < nodes->size(); ++i) {
    const NodeImageService& node = (*nodes)[i];
    absl::Status status = node.service == nullptr ? node.status : tagged[i];
    if (status.ok()) {
      done_somewhere = true;
    } else if (absl::IsNotFound(status) && node.service != nullptr) {
      if (not_found.ok()) not_found = status;
    } else {
      exit_code = ReportError(invocation, nodes->size() == 1
                                              ? status
                                              : absl::Status(status.code(), absl::StrCat(
                                                    "node ", node.agent.node, ": ",
                                                    status.message())));
    }
  }
  if (!done_somewhere && exit_code == kExitOk) return ReportError(invocation, not_found);
  return exit_code;
}

}  // namespace

std::unique_ptr<Command> NewTagCommand() {
  auto tag = std::make_unique<Command>();
  tag->name = "tag";
  tag->use = "SOURCE_REF TARGET_REF [TARGET_REF, ...]";
  tag->short_help = "Tag an image";
  tag->args = {.min = 2};
  tag->flags = {
      {.name = "node", .type = FlagType::kString,
       .usage = "Tag on this node only (default: every node that has the image)"},
  };
  tag->run = RunTag;
  return tag;
}

}  // namespace kim::cli
