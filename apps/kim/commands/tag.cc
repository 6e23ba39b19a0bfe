// `kim image tag` / `kim tag`: gives an image further names.
#include <ostream>

#include "absl/strings/str_cat.h"
#include "apps/kim/commands/common.h"
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
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  auto image = (*service)->Tag(source, targets);
  if (!image.ok()) return ReportError(invocation, image.status());
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewTagCommand() {
  auto tag = std::make_unique<Command>();
  tag->name = "tag";
  tag->use = "SOURCE_REF TARGET_REF [TARGET_REF, ...]";
  tag->short_help = "Tag an image";
  tag->args = {.min = 2};
  tag->run = RunTag;
  return tag;
}

}  // namespace kim::cli
