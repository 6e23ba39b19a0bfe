// `kim image rm` / `kim rmi`: untags or deletes images, every argument, like `docker rmi`.
#include <ostream>

#include "apps/kim/commands/common.h"
#include "kim/reference.h"

namespace kim::cli {
namespace {

int RunRemove(Invocation& invocation) {
  for (const std::string& image : invocation.args) {
    if (absl::Status status = ValidateImageArgument(image); !status.ok()) {
      return ReportError(invocation, status);
    }
  }
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  int exit_code = kExitOk;
  for (const RemoveResult& result :
       (*service)->Remove(invocation.args, invocation.flags.Bool("force"))) {
    for (const std::string& name : result.untagged) {
      // Docker shows names in their familiar form ("app:1", not "docker.io/library/app:1").
      auto ref = ImageReference::Parse(name);
      *invocation.out << "Untagged: " << (ref.ok() ? ref->FamiliarString() : name) << "\n";
    }
    for (const std::string& id : result.deleted) *invocation.out << "Deleted: " << id << "\n";
    if (!result.status.ok()) exit_code = ReportError(invocation, result.status);
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
  };
  remove->run = RunRemove;
  return remove;
}

}  // namespace kim::cli
