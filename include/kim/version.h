// kim's version, stamped at build time from the project version and the git commit.
#ifndef KIM_VERSION_H_
#define KIM_VERSION_H_

#include <string>
#include <string_view>

namespace kim {

// The release version, e.g. "v0.1.0".
std::string_view Version();

// What a running daemon (kim-agent, buildkitd, containerd) says about itself.
struct DaemonVersion {
  std::string name;             // "kim-agent", "buildkitd", "containerd"
  std::string version;          // "v0.1.0", "v0.17.3", "1.6.20~ds1"
  std::string revision;         // its git commit, when it reports one
  std::string runtime_version;  // kim-agent only: the containerd it serves, e.g. "1.6.20~ds1"
};

// The abbreviated git commit the binary was built from, "HEAD" when unknown, with a "-dirty"
// suffix when the work tree had uncommitted changes.
std::string_view GitCommit();

}  // namespace kim

#endif  // KIM_VERSION_H_
