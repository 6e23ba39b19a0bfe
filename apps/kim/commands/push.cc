// `kim image push` / `kim push`: uploads an image from the builder node to its registry.
#include <unistd.h>

#include <ostream>

#include "apps/kim/cli/interrupt_watcher.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/commands/nodes.h"
#include "apps/kim/output/progress_printer.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "kim/reference.h"

namespace kim::cli {
namespace {

int RunPush(Invocation& invocation) {
  // Ctrl-C cancels the push on the node, not only here (before any thread starts).
  Cancellation cancellation;
  InterruptWatcher watcher([&cancellation] { cancellation.Cancel(); });
  auto ref = ImageReference::ParseNormalized(invocation.args.front());
  if (!ref.ok()) return ReportError(invocation, ref.status());
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  auto credentials = CredentialsFor(invocation.args.front());
  if (!credentials.ok()) return ReportError(invocation, credentials.status());

  const ImageReference full = ref->WithDefaultTag();
  std::ostream& out = *invocation.out;
  if (!ref->HasTag() && !ref->HasDigest()) out << "Using default tag: latest\n";
  out << "The push refers to repository [" << full.Name() << "]\n" << std::flush;
  ProgressPrinter printer(out, IsTerminal(STDOUT_FILENO), /*is_push=*/true);
  PushOptions options;
  options.credentials = *credentials;
  options.insecure = invocation.flags.Bool("insecure");
  options.gzip_uncompressed_layers = invocation.flags.String("compression") != "uncompressed";
  if (const std::string level = invocation.flags.String("compression-level"); !level.empty()) {
    if (!absl::SimpleAtoi(level, &options.compression_level) || options.compression_level < 1 ||
        options.compression_level > 9) {
      return ReportError(invocation, absl::InvalidArgumentError(absl::StrCat(
                                         "invalid --compression-level ", level, ": gzip takes 1 to 9")));
    }
  }
  options.progress = [&printer](const BlobProgress& progress) { printer.Update(progress); };
  options.cancellation = &cancellation;
  auto digest = (*service)->Push(full.String(), options);
  printer.Finish();
  if (watcher.interrupted()) {
    ReportError(invocation, absl::CancelledError("push cancelled"));
    return InterruptWatcher::kExitInterrupted;
  }
  if (!digest.ok()) return ReportError(invocation, digest.status());
  out << (full.HasTag() ? full.Tag() : full.Digest()->String()) << ": digest: " << *digest << "\n";
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
      {.name = "compression", .type = FlagType::kString,
       .usage = "Layers stored uncompressed (kim build's default): gzip them for the registry, as "
                "docker push does (gzip), or send them as stored (uncompressed)",
       .default_value = "gzip", .choices = {"gzip", "uncompressed"}},
      {.name = "compression-level", .type = FlagType::kInt,
       .usage = "gzip level for those layers, 1 (fastest) to 9 (smallest); default 6"},
      {.name = "insecure", .usage = "Treat the registry as insecure: HTTPS without certificate "
                                    "checks, or plain HTTP (loopback registries always are)"},
      NodeFlag(),
  };
  push->run = RunPush;
  return push;
}

}  // namespace kim::cli
