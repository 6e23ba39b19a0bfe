// `kim image pull` / `kim pull`: fetches an image into the builder node's containerd.
#include <ostream>

#include "apps/kim/commands/common.h"
#include "kim/platform.h"
#include "kim/reference.h"

namespace kim::cli {
namespace {

int RunPull(Invocation& invocation) {
  auto ref = ImageReference::ParseNormalized(invocation.args.front());
  if (!ref.ok()) return ReportError(invocation, ref.status());
  PullOptions options;
  if (const std::string platform = invocation.flags.String("platform"); !platform.empty()) {
    auto parsed = ParsePlatform(platform);
    if (!parsed.ok()) return ReportError(invocation, parsed.status());
    options.platform = parsed->String();
  }
  auto service = ConnectImageService(ConnectOptionsFrom(invocation.flags));
  if (!service.ok()) return ReportError(invocation, service.status());
  auto image = (*service)->Pull(ref->WithDefaultTag().String(), options);
  if (!image.ok()) return ReportError(invocation, image.status());
  *invocation.out << ref->WithDefaultTag().String() << "\n";
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewPullCommand() {
  auto pull = std::make_unique<Command>();
  pull->name = "pull";
  pull->use = "[OPTIONS] IMAGE";
  pull->short_help = "Pull an image";
  pull->args = {.min = 1, .max = 1};
  pull->flags = {
      {.name = "cri", .usage = "Use the CRI backend to pull (kim always does; kept for "
                               "compatibility)"},
      {.name = "platform", .type = FlagType::kString,
       .usage = "Set platform if server is multi-platform capable"},
  };
  pull->run = RunPull;
  return pull;
}

}  // namespace kim::cli
