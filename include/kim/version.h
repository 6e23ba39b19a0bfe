// kim's version, stamped at build time from the project version and the git commit.
#ifndef KIM_VERSION_H_
#define KIM_VERSION_H_

#include <string_view>

namespace kim {

// The release version, e.g. "v0.1.0".
std::string_view Version();

// The abbreviated git commit the binary was built from, "HEAD" when unknown, with a "-dirty"
// suffix when the work tree had uncommitted changes.
std::string_view GitCommit();

}  // namespace kim

#endif  // KIM_VERSION_H_
