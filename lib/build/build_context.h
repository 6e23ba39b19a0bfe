// The local side of one build's context: the directories the daemon pulls through FileSync (or
// the archive it downloads) and the Dockerfile's name, checked and, for a Dockerfile from stdin,
// written to a temporary directory. Also the public ResolveBuildInput (kim/build_context.h).
// Internal to libkim.
#ifndef KIM_LIB_BUILD_BUILD_CONTEXT_H_
#define KIM_LIB_BUILD_BUILD_CONTEXT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kim/build_context.h"
#include "kim/build_service.h"

namespace kim::build {

// A temporary directory removed with its content when this goes away.
class TempDir {
 public:
  TempDir() = default;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  // Creates $TMPDIR/kim-dockerfile-XXXXXX (or under /tmp). Internal on failure.
  absl::Status Create();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// What the session serves for one build. Owns the temporary directories it points into.
struct LocalContext {
  bool archive = false;         // the context is options.context_archive (no directories)
  std::string context_dir;      // absolute; empty with an archive
  std::string dockerfile_dir;   // absolute; empty with an archive
  std::string dockerfile_name;  // the frontend's "filename"
  std::unique_ptr<TempDir> empty_dir;  // the empty context (`kim build - < Dockerfile`)
  std::unique_ptr<TempDir> stdin_dir;  // holds the Dockerfile read from stdin
};

// Checks BuildOptions' context fields and returns what the session serves. InvalidArgument
// ("unable to prepare context: ...") for a missing directory or an unreadable Dockerfile, or
// when stdin is asked for both the archive and the Dockerfile.
absl::StatusOr<LocalContext> PrepareLocalContext(const BuildOptions& options);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_BUILD_CONTEXT_H_
