// The one owner of a build's context: `kim build` arguments resolved before anything is
// contacted (ResolveBuildInput), and the directories a Build serves (PrepareLocalContext).
#include "lib/build/build_context.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "lib/core/files.h"

namespace kim {
namespace {

constexpr char kStdinTwice[] =
    "invalid argument: can't use stdin for both build context and dockerfile";

absl::Status ContextNotFound(const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrCat("unable to prepare context: path \"", path, "\" not found"));
}

// `path` resolved (symbolic links, ..) when it is a directory.
absl::StatusOr<std::string> ExistingDirectory(const std::string& path) {
  char resolved[PATH_MAX];
  struct stat st {};
  if (realpath(path.c_str(), resolved) == nullptr || stat(resolved, &st) != 0 ||
      !S_ISDIR(st.st_mode)) {
    return ContextNotFound(path);
  }
  return std::string(resolved);
}

// OK when `path` is a readable regular file; the error names it as `shown`.
absl::Status CheckDockerfile(const std::string& path, const std::string& shown) {
  struct stat st {};
  errno = 0;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || access(path.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unable to prepare context: cannot read Dockerfile \"", shown,
                     "\": ", std::strerror(errno == 0 ? ENOENT : errno)));
  }
  return absl::OkStatus();
}

// Up to `limit` bytes from file descriptor 0 (fewer only at its end).
absl::StatusOr<std::string> ReadFd0(size_t limit) {
  std::string data;
  char buffer[65536];
  while (data.size() < limit) {
    const ssize_t n = read(STDIN_FILENO, buffer, std::min(sizeof buffer, limit - data.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::DataLossError(absl::StrCat("reading stdin: ", std::strerror(errno)));
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

// `kim build -`: stdin holds a context archive (streamed later, starting with `header`) or a
// Dockerfile (read whole now, built with no context).
absl::Status ResolveStdinContext(const BuildInput& input, const StdinReader& read_stdin,
                                 BuildOptions* options) {
  if (input.dockerfile == "-") return absl::InvalidArgumentError(kStdinTwice);
  absl::StatusOr<std::string> read = read_stdin(1024);
  if (!read.ok()) return read.status();
  std::string header = *std::move(read);
  options->context_dir.clear();
  if (IsContextArchive(header)) {
    options->dockerfile = input.dockerfile;
    options->context_archive = [header = std::move(header), read_stdin](
                                   std::string* chunk) mutable -> absl::StatusOr<bool> {
      if (!header.empty()) {
        chunk->swap(header);
        return true;
      }
      absl::StatusOr<std::string> more = read_stdin(1 << 20);
      if (!more.ok()) return more.status();
      *chunk = *std::move(more);
      return !chunk->empty();
    };
    return absl::OkStatus();
  }
  if (!input.dockerfile.empty()) {
    return absl::InvalidArgumentError(
        "-f cannot be used when a Dockerfile comes from stdin (kim build - < Dockerfile)");
  }
  absl::StatusOr<std::string> rest = read_stdin(SIZE_MAX);
  if (!rest.ok()) return rest.status();
  options->empty_context = true;
  options->dockerfile = "-";
  options->dockerfile_content = header + *rest;
  return absl::OkStatus();
}

}  // namespace

absl::Status ResolveBuildInput(const BuildInput& input, BuildOptions* options,
                               StdinReader read_stdin) {
  if (read_stdin == nullptr) read_stdin = ReadFd0;
  options->context_dir = input.context.empty() ? "." : input.context;
  if (options->context_dir == "-") return ResolveStdinContext(input, read_stdin, options);
  if (!ExistingDirectory(options->context_dir).ok()) return ContextNotFound(options->context_dir);
  if (input.dockerfile == "-") {
    options->dockerfile = "-";
    absl::StatusOr<std::string> dockerfile = read_stdin(SIZE_MAX);
    if (!dockerfile.ok()) return dockerfile.status();
    options->dockerfile_content = *std::move(dockerfile);
    return absl::OkStatus();
  }
  // Like docker: a relative -f is relative to the working directory.
  options->dockerfile =
      input.dockerfile.empty() ? options->context_dir + "/Dockerfile" : input.dockerfile;
  return CheckDockerfile(options->dockerfile, options->dockerfile);
}

namespace build {

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
}

absl::Status TempDir::Create() {
  const char* tmp = getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/kim-dockerfile-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  path_ = pattern;
  return absl::OkStatus();
}

namespace {

// The Dockerfile's directory and name: written from dockerfile_content into a temporary
// directory (stdin), or the file options.dockerfile names (default CONTEXT/Dockerfile), checked.
absl::Status LocateDockerfile(const BuildOptions& options, LocalContext* context) {
  if (options.dockerfile == "-" ||
      (options.dockerfile.empty() && !options.dockerfile_content.empty())) {
    context->stdin_dir = std::make_unique<TempDir>();
    if (absl::Status status = context->stdin_dir->Create(); !status.ok()) return status;
    std::ofstream(context->stdin_dir->path() + "/Dockerfile", std::ios::binary)
        << options.dockerfile_content;
    context->dockerfile_dir = context->stdin_dir->path();
    context->dockerfile_name = "Dockerfile";
    return absl::OkStatus();
  }
  const std::string path = options.dockerfile.empty() ? context->context_dir + "/Dockerfile"
                                                      : AbsolutePath(options.dockerfile);
  const std::string shown =
      options.dockerfile.empty()
          ? (options.context_dir.empty() ? "." : options.context_dir) + "/Dockerfile"
          : options.dockerfile;
  if (absl::Status status = CheckDockerfile(path, shown); !status.ok()) return status;
  const std::filesystem::path p(path);
  context->dockerfile_dir = p.parent_path().string();
  context->dockerfile_name = p.filename().string();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LocalContext> PrepareLocalContext(const BuildOptions& options) {
  LocalContext context;
  if (options.context_archive) {  // the Dockerfile is read from the archive
    if (options.dockerfile == "-") return absl::InvalidArgumentError(kStdinTwice);
    context.archive = true;
    context.dockerfile_name = options.dockerfile.empty() ? "Dockerfile" : options.dockerfile;
    return context;
  }
  if (options.empty_context) {
    context.empty_dir = std::make_unique<TempDir>();
    if (absl::Status status = context.empty_dir->Create(); !status.ok()) return status;
    context.context_dir = context.empty_dir->path();
  } else {
    auto dir = ExistingDirectory(options.context_dir.empty() ? "." : options.context_dir);
    if (!dir.ok()) return dir.status();
    context.context_dir = *std::move(dir);
  }
  if (absl::Status status = LocateDockerfile(options, &context); !status.ok()) return status;
  return context;
}

}  // namespace build
}  // namespace kim
