// `kim image load` / `kim load`: imports images from a tar archive, streamed to the node.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "apps/kim/commands/common.h"
#include "kim/reference.h"

namespace kim::cli {
namespace {

constexpr size_t kPieceSize = 1 << 20;

// Reads `fd` in pieces of up to 1 MiB; an empty piece at the end.
ByteSource ReadPieces(int fd, std::string what) {
  return [fd, what]() -> absl::StatusOr<std::string> {
    std::string piece(kPieceSize, '\0');
    size_t filled = 0;
    while (filled < piece.size()) {
      const ssize_t n = read(fd, piece.data() + filled, piece.size() - filled);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::DataLossError(absl::StrCat("cannot read ", what, ": ", std::strerror(errno)));
      if (n == 0) break;
      filled += static_cast<size_t>(n);
    }
    piece.resize(filled);
    return piece;
  };
}

int RunLoad(Invocation& invocation) {
  const std::string input = invocation.flags.String("input");
  int fd = STDIN_FILENO;
  if (input.empty() && isatty(STDIN_FILENO)) {
    return ReportError(invocation, absl::InvalidArgumentError(
        "requested load from stdin, but stdin is empty (use -i FILE or redirect an archive)"));
  }
  if (!input.empty()) {
    fd = open(input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return ReportError(invocation, absl::NotFoundError(
          absl::StrCat("cannot open ", input, ": ", std::strerror(errno))));
    }
  }
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());
  auto loaded = (*service)->Load(ReadPieces(fd, input.empty() ? "stdin" : input));
  if (fd != STDIN_FILENO) close(fd);
  if (!loaded.ok()) return ReportError(invocation, loaded.status());
  for (const LoadedImage& image : *loaded) {
    if (image.name.empty()) {
      *invocation.out << "Loaded image ID: " << image.id << "\n";
      continue;
    }
    auto reference = ImageReference::Parse(image.name);
    *invocation.out << "Loaded image: " << (reference.ok() ? reference->FamiliarString() : image.name)
                    << "\n";
  }
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewLoadCommand() {
  auto load = std::make_unique<Command>();
  load->name = "load";
  load->use = "[OPTIONS]";
  load->short_help = "Load images from a tar archive (docker-archive or OCI, plain or gzip) or STDIN";
  load->args = {.min = 0, .max = 0};
  load->flags = {
      {.name = "input", .shorthand = 'i', .type = FlagType::kString,
       .usage = "Read from tar archive file, instead of STDIN"},
      {.name = "quiet", .shorthand = 'q', .usage = "Suppress the load output"},
  };
  load->run = RunLoad;
  return load;
}

}  // namespace kim::cli
