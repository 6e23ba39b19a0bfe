// Debug logging for kim: off by default, turned on by `kim --debug` (and --debug-level N for
// more detail). Lines go to stderr as "DEBU[0000] message", like the original kim's logrus.
#ifndef KIM_LOG_H_
#define KIM_LOG_H_

#include <string_view>

namespace kim {

// Sets how much is logged: -1 nothing (the default), 0 debug lines, higher numbers more detail.
// Thread-safe.
void SetLogVerbosity(int level);

// True when messages of `level` are logged.
bool LogEnabled(int level);

// Writes one debug line when `level` is enabled. Thread-safe; lines never interleave.
void LogDebug(int level, std::string_view message);

}  // namespace kim

#endif  // KIM_LOG_H_
