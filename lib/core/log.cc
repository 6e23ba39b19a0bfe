// Debug logging to stderr.
#include "kim/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace kim {
namespace {

std::atomic<int> verbosity{-1};
const auto start = std::chrono::steady_clock::now();

}  // namespace

void SetLogVerbosity(int level) { verbosity.store(level); }

bool LogEnabled(int level) { return level <= verbosity.load(); }

void LogDebug(int level, std::string_view message) {
  if (!LogEnabled(level)) return;
  static std::mutex mutex;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - start).count();
  std::lock_guard<std::mutex> lock(mutex);
  std::fprintf(stderr, "DEBU[%04lld] %.*s\n", static_cast<long long>(seconds),
               static_cast<int>(message.size()), message.data());
}

}  // namespace kim
