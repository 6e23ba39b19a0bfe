// Reading small files whole (certificates, keys, configs) with errors that name them. Internal.
#ifndef KIM_LIB_CORE_FILES_H_
#define KIM_LIB_CORE_FILES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kim {

// The contents of `path`. InvalidArgument `cannot read <what> "<path>"` when it cannot be read.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, std::string_view what);

// `path` made absolute against the working directory and normalised lexically; `path` itself
// when that fails.
std::string AbsolutePath(const std::string& path);

}  // namespace kim

#endif  // KIM_LIB_CORE_FILES_H_
