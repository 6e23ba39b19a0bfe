// `kim image prune`: removes dangling (or, with -a, unused) images like `docker image prune`.
#include <iostream>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/commands/prompt.h"
#include "kim/reference.h"
#include "kim/units.h"

namespace kim::cli {
namespace {

constexpr char kDanglingWarning[] = "WARNING! This will remove all dangling images.";
constexpr char kAllWarning[] =
    "WARNING! This will remove all images without at least one container associated to them.";

// Docker shows names in their familiar form ("app:1", "app@sha256:...").
std::string Familiar(const std::string& name) {
  auto ref = ImageReference::Parse(name);
  return ref.ok() ? ref->FamiliarString() : name;
}

int RunImagePrune(Invocation& invocation) {
  const bool all = invocation.flags.Bool("all");
  if (!invocation.flags.Bool("force") &&
      !Confirm(absl::StrCat(all ? kAllWarning : kDanglingWarning,
                            "\nAre you sure you want to continue?"),
               std::cin, *invocation.out)) {
    return kExitOk;
  }
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  PruneOptions options{.all = all, .filters = invocation.flags.Strings("filter")};
  auto report = (*service)->Prune(options);
  if (!report.ok()) return ReportError(invocation, report.status());
  std::ostream& out = *invocation.out;
  if (!report->images.empty()) {
    out << "Deleted Images:\n";
    for (const PrunedImage& image : report->images) {
      for (const std::string& name : image.untagged) out << "untagged: " << Familiar(name) << "\n";
      if (image.deleted) out << "deleted: " << image.id << "\n";
    }
    out << "\n";
  }
  for (const std::string& warning : report->warnings) *invocation.err << "Warning: " << warning << "\n";
  out << "Total reclaimed space: " << HumanSize(static_cast<double>(report->reclaimed)) << "\n";
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewImagePruneCommand() {
  auto prune = std::make_unique<Command>();
  prune->name = "prune";
  prune->use = "[OPTIONS]";
  prune->short_help = "Remove unused images";
  prune->args = {.min = 0, .max = 0};
  prune->flags = {
      {.name = "all", .shorthand = 'a', .usage = "Remove all unused images, not just dangling ones"},
      {.name = "filter", .type = FlagType::kStringArray,
       .usage = "Provide filter values (e.g. \"until=<timestamp>\")"},
      {.name = "force", .shorthand = 'f', .usage = "Do not prompt for confirmation"},
  };
  prune->run = RunImagePrune;
  return prune;
}

}  // namespace kim::cli
