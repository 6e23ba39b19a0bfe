// Walks a local directory the way BuildKit's fsutil sender does, producing the stat records the
// daemon expects: depth-first, siblings in bytewise order, include/exclude patterns and
// followpaths applied like fsutil's filter (a skipped directory is still entered when a rule
// could bring back something inside it, and is then sent just before that child), Go FileMode
// bits, nanosecond mtimes, hardlinks as links to the first path, uid/gid 0.
#ifndef KIM_LIB_BUILD_CONTEXT_WALKER_H_
#define KIM_LIB_BUILD_CONTEXT_WALKER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fsutil/types/fsutil.pb.h"

namespace kim::build {

// Go os.FileMode bits.
inline constexpr uint32_t kGoModeDir = 1u << 31;
inline constexpr uint32_t kGoModeSymlink = 1u << 27;
inline constexpr uint32_t kGoModeDevice = 1u << 26;
inline constexpr uint32_t kGoModeNamedPipe = 1u << 25;
inline constexpr uint32_t kGoModeSocket = 1u << 24;
inline constexpr uint32_t kGoModeSetuid = 1u << 23;
inline constexpr uint32_t kGoModeSetgid = 1u << 22;
inline constexpr uint32_t kGoModeCharDevice = 1u << 21;
inline constexpr uint32_t kGoModeSticky = 1u << 20;
inline constexpr uint32_t kGoModeIrregular = 1u << 19;
inline constexpr uint32_t kGoModeType = kGoModeDir | kGoModeSymlink | kGoModeNamedPipe |
                                        kGoModeSocket | kGoModeDevice | kGoModeCharDevice |
                                        kGoModeIrregular;

// Go's os.FileMode for a st_mode.
uint32_t GoFileMode(uint32_t st_mode);

// What the daemon asked to receive of a directory (FileSync metadata).
struct WalkFilter {
  std::vector<std::string> include_patterns;
  std::vector<std::string> exclude_patterns;
  std::vector<std::string> follow_paths;  // symlinks resolved into include patterns
};

// Calls `emit` for every entry of `root` that passes `filter`, in fsutil's order; stat.path is
// relative with '/' separators. Stops at the first error of `emit` and returns it. Returns
// InvalidArgument for a bad pattern, PermissionDenied/NotFound/Internal naming the path when the
// tree cannot be read.
absl::Status WalkContext(const std::string& root, const WalkFilter& filter,
                         const std::function<absl::Status(fsutil::types::Stat&)>& emit);

// fsutil's FollowLinks: the paths `follow_paths` name, with every symlink on the way (inside
// `root`) also resolved to its target, sorted.
std::vector<std::string> ResolveFollowPaths(const std::string& root,
                                            const std::vector<std::string>& follow_paths);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_CONTEXT_WALKER_H_
