// `kim image pull` / `kim pull`: fetches an image into the builder node's containerd.
#include <unistd.h>

#include <ostream>

#include "apps/kim/cli/interrupt_watcher.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/commands/nodes.h"
#include "apps/kim/output/progress_printer.h"
#include "kim/platform.h"
#include "kim/reference.h"

namespace kim::cli {
namespace {

int RunPull(Invocation& invocation) {
  // Ctrl-C cancels the pull on the node, not only here (before any thread starts).
  Cancellation cancellation;
  InterruptWatcher watcher([&cancellation] { cancellation.Cancel(); });
  auto ref = ImageReference::ParseNormalized(invocation.args.front());
  if (!ref.ok()) return ReportError(invocation, ref.status());
  PullOptions options;
  if (const std::string platform = invocation.flags.String("platform"); !platform.empty()) {
    auto parsed = ParsePlatform(platform);
    if (!parsed.ok()) return ReportError(invocation, parsed.status());
    options.platform = parsed->String();
  }
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  auto credentials = CredentialsFor(invocation.args.front());
  if (!credentials.ok()) return ReportError(invocation, credentials.status());
  options.credentials = *credentials;

  const ImageReference full = ref->WithDefaultTag();
  std::ostream& out = *invocation.out;
  if (!ref->HasTag() && !ref->HasDigest()) out << "Using default tag: latest\n";
  out << (full.HasDigest() ? full.Digest()->String() : full.Tag()) << ": Pulling from "
      << full.Path() << "\n" << std::flush;
  auto before = (*service)->Status(full.String());  // to tell "up to date" from "newer"
  ProgressPrinter printer(out, IsTerminal(STDOUT_FILENO), /*is_push=*/false);
  options.progress = [&printer](const BlobProgress& progress) { printer.Update(progress); };
  options.cancellation = &cancellation;
  auto image = (*service)->Pull(full.String(), options);
  printer.Finish();
  if (watcher.interrupted()) {
    ReportError(invocation, absl::CancelledError("pull cancelled"));
    return InterruptWatcher::kExitInterrupted;
  }
  if (!image.ok()) return ReportError(invocation, image.status());
  for (const std::string& record : image->repo_digests) {
    auto digest_ref = ImageReference::Parse(record);
    if (digest_ref.ok() && digest_ref->Name() == full.Name() && digest_ref->HasDigest()) {
      out << "Digest: " << digest_ref->Digest()->String() << "\n";
      break;
    }
  }
  const bool unchanged = before.ok() && before->id == image->id;
  out << "Status: " << (unchanged ? "Image is up to date for " : "Downloaded newer image for ")
      << full.FamiliarString() << "\n"
      << full.String() << "\n";
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
      NodeFlag(),
      {.name = "platform", .type = FlagType::kString,
       .usage = "Set platform if server is multi-platform capable"},
  };
  pull->run = RunPull;
  return pull;
}

}  // namespace kim::cli
