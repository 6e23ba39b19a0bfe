// Pieces every session attachable uses: metadata values as BuildKit encodes them, and unary
// methods over a SessionCall. Internal.
#ifndef KIM_LIB_BUILD_ATTACHABLE_UTIL_H_
#define KIM_LIB_BUILD_ATTACHABLE_UTIL_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "lib/build/session_server.h"

namespace kim::build {

// The values of one metadata key, decoded when "<key>-encoded" says so (BuildKit's encodeOpts,
// Go's url.QueryUnescape).
std::vector<std::string> MetadataValues(const SessionCall& call, const std::string& key);

// A unary method: reads the request, runs `serve`, writes the response when it succeeded.
template <typename Request, typename Response>
SessionMethod Unary(std::string name,
                    std::function<absl::Status(SessionCall&, const Request&, Response*)> serve) {
  return {std::move(name), [serve = std::move(serve)](SessionCall& call) {
            Request request;
            if (!call.Read(&request)) return absl::InvalidArgumentError("no request message");
            Response response;
            absl::Status status = serve(call, request, &response);
            if (status.ok() && !call.Write(response)) return absl::CancelledError("call cancelled");
            return status;
          }};
}

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_ATTACHABLE_UTIL_H_
