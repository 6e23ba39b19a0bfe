// What `--tunnel auto` learnt about reaching a cluster's builder, kept per kubeconfig context in
// $XDG_CACHE_HOME/kim/routes.json (~/.cache/kim when unset), so that the next command does not
// wait for a direct dial that cannot work. Internal to libkim.
#ifndef KIM_LIB_CONNECT_ROUTE_CACHE_H_
#define KIM_LIB_CONNECT_ROUTE_CACHE_H_

#include <optional>
#include <string>

#include "absl/time/time.h"

namespace kim {

// One remembered choice.
struct CachedRoute {
  std::string route;  // "direct" or "tunnel"
  std::string host;   // the node address it was decided for (a direct route to another is probed)
  absl::Time checked;
};

// The file: $XDG_CACHE_HOME/kim/routes.json, else $HOME/.cache/kim/routes.json; "" when
// neither variable is set.
std::string RouteCachePath();

// The entry for `key`, when the file has one. A missing, unreadable or damaged file reads as
// empty: the cache only saves time.
std::optional<CachedRoute> ReadCachedRoute(const std::string& key);

// Records `route` for `key` (the file is replaced by rename, mode 0600). Failures are logged
// at debug level and otherwise ignored.
void WriteCachedRoute(const std::string& key, const CachedRoute& route);

}  // namespace kim

#endif  // KIM_LIB_CONNECT_ROUTE_CACHE_H_
