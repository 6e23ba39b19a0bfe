// Where a build's context and Dockerfile come from, as `docker build` takes them on its command
// line: a directory, or "-" for stdin (a context archive or a Dockerfile), and `-f`.
#ifndef KIM_BUILD_CONTEXT_H_
#define KIM_BUILD_CONTEXT_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kim/build_service.h"

namespace kim {

// The context and Dockerfile arguments of one build.
struct BuildInput {
  // A directory, or "-": stdin holds a context archive (tar, possibly compressed) or a Dockerfile
  // (built with no context). Default: ".".
  std::string context = ".";
  // `-f`: "" = CONTEXT/Dockerfile (or "Dockerfile" inside an archive), "-" = read stdin, else a
  // path relative to the working directory (inside an archive: a path in it). Default: "".
  std::string dockerfile;
};

// Reads up to `limit` bytes of stdin, fewer only at its end ("" at the end).
using StdinReader = std::function<absl::StatusOr<std::string>(size_t limit)>;

// Resolves `input` into the context fields of `options` (context_dir, dockerfile,
// dockerfile_content, context_archive, empty_context) the way `docker build` does, before
// anything is contacted: a directory must exist and its Dockerfile be readable; a Dockerfile on
// stdin is read whole; a context archive is recognised by its first bytes and left on stdin for
// Build to stream. `read_stdin` null = file descriptor 0. InvalidArgument with Docker's words
// ("unable to prepare context: path \"x\" not found", "can't use stdin for both build context
// and dockerfile"); DataLoss when stdin cannot be read.
absl::Status ResolveBuildInput(const BuildInput& input, BuildOptions* options,
                               StdinReader read_stdin = nullptr);

}  // namespace kim

#endif  // KIM_BUILD_CONTEXT_H_
