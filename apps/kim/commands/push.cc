// `kim image push` / `kim push`: uploads an image from the builder node to its registry.
#include <ostream>

#include "apps/kim/commands/common.h"
#include "kim/reference.h"

namespace kim::cli {
namespace {

int RunPush(Invocation& invocation) {
  auto ref = ImageReference::ParseNormalized(invocation.args.front());
  if (!ref.ok()) return ReportError(invocation, ref.status());
  auto service = ConnectImageService(ConnectOptionsFrom(invocation.flags));
  if (!service.ok()) return ReportError(invocation, service.status());
  PushOptions options;
  options.insecure = invocation.flags.Bool("insecure");
  auto digest = (*service)->Push(ref->WithDefaultTag().String(), options);
  if (!digest.ok()) return ReportError(invocation, digest.status());
  *invocation.out << ref->WithDefaultTag().FamiliarString() << ": digest: " << *digest << "\n";
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewPushCommand() {
  auto push = std::make_unique<Command>();
  push->name = "push";
  push->use = "[OPTIONS] IMAGE";
  push->short_help = "Push an image";
  push->args = {.min = 1, .max = 1};
  push->flags = {
      {.name = "insecure", .usage = "Use plain HTTP for this registry (always allowed for "
                                    "loopback registries)"},
  };
  push->run = RunPush;
  return push;
}

}  // namespace kim::cli
