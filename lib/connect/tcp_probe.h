// Whether a TCP address answers: the cheap test `--tunnel auto` and `never` make before
// dialling a node directly. Internal to libkim.
#ifndef KIM_LIB_CONNECT_TCP_PROBE_H_
#define KIM_LIB_CONNECT_TCP_PROBE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace kim {

// Connects to host:port (names resolved, IPv4 and IPv6) and closes again. OK when a connection
// was accepted within `timeout`; else Unavailable saying why ("connection refused", "no route
// to host", "no answer within 1.5s").
absl::Status ProbeTcp(const std::string& host, int port, absl::Duration timeout);

}  // namespace kim

#endif  // KIM_LIB_CONNECT_TCP_PROBE_H_
