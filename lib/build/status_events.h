// Turns BuildKit's StatusResponse messages into kim's BuildEvents.
#ifndef KIM_LIB_BUILD_STATUS_EVENTS_H_
#define KIM_LIB_BUILD_STATUS_EVENTS_H_

#include <vector>

#include "kim/build_service.h"
#include "moby/buildkit/v1/control.pb.h"

namespace kim::build {

// The events one status message carries, in the order vertices, statuses, logs, warnings (the
// order in which buildctl's progress UI applies them).
std::vector<BuildEvent> DecodeStatus(const moby::buildkit::v1::StatusResponse& status);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_STATUS_EVENTS_H_
