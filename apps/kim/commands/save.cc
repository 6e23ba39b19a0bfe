// `kim image save` / `kim save`: writes images to a tar archive, streamed from the node.
#include <unistd.h>

#include <ostream>

#include "absl/strings/str_cat.h"
#include "apps/kim/commands/common.h"
#include "lib/core/atomic_file.h"

namespace kim::cli {
namespace {

int RunSave(Invocation& invocation) {
  for (const std::string& image : invocation.args) {
    if (absl::Status status = ValidateImageArgument(image); !status.ok()) {
      return ReportError(invocation, status);
    }
  }
  const std::string output = invocation.flags.String("output");
  if (output.empty() && isatty(STDOUT_FILENO)) {
    return ReportError(invocation, absl::FailedPreconditionError(
        "cowardly refusing to save to a terminal. Use the -o flag or redirect"));
  }
  const SaveOptions options{.format = invocation.flags.String("format") == "oci"
                                          ? ArchiveFormat::kOci
                                          : ArchiveFormat::kDocker};
  std::unique_ptr<AtomicFile> file;
  if (!output.empty()) {
    auto created = AtomicFile::Create(output);
    if (!created.ok()) return ReportError(invocation, created.status());
    file = *std::move(created);
  }
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  absl::Status status = (*service)->Save(invocation.args, options, [&](std::string_view piece) {
    if (file) return file->Write(piece);
    invocation.out->write(piece.data(), static_cast<std::streamsize>(piece.size()));
    return invocation.out->good() ? absl::OkStatus()
                                  : absl::DataLossError("cannot write the archive to stdout");
  });
  if (status.ok() && file) status = file->Commit();
  if (status.ok() && !file) invocation.out->flush();
  if (!status.ok()) return ReportError(invocation, status);
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewSaveCommand() {
  auto save = std::make_unique<Command>();
  save->name = "save";
  save->use = "[OPTIONS] IMAGE [IMAGE...]";
  save->short_help = "Save one or more images to a tar archive (streamed to STDOUT by default)";
  save->args = {.min = 1};
  save->flags = {
      {.name = "output", .shorthand = 'o', .type = FlagType::kString,
       .usage = "Write to a file, instead of STDOUT"},
      {.name = "format", .type = FlagType::kString,
       .usage = "Archive format: docker (docker-archive that is also an OCI layout, as docker "
                "save writes) or oci (OCI image layout)",
       .default_value = "docker", .choices = {"docker", "oci"}},
  };
  save->run = RunSave;
  return save;
}

}  // namespace kim::cli
