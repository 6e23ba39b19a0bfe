// grpc.health.v1.Health: always SERVING (buildkitd drops a session whose checks fail).
#include "lib/build/attachables.h"

#include <chrono>

#include "grpc/health/v1/health.pb.h"
#include "lib/build/attachable_util.h"

namespace kim::build {

std::vector<SessionMethod> HealthMethods() {
  using grpc::health::v1::HealthCheckRequest;
  using grpc::health::v1::HealthCheckResponse;
  return {Unary<HealthCheckRequest, HealthCheckResponse>(
              "/grpc.health.v1.Health/Check",
              [](SessionCall&, const HealthCheckRequest&, HealthCheckResponse* response) {
                response->set_status(HealthCheckResponse::SERVING);
                return absl::OkStatus();
              }),
          {"/grpc.health.v1.Health/Watch", [](SessionCall& call) {
             HealthCheckRequest request;
             if (!call.Read(&request)) return absl::InvalidArgumentError("no request message");
             HealthCheckResponse response;
             response.set_status(HealthCheckResponse::SERVING);
             if (!call.Write(response)) return absl::OkStatus();
             while (!call.WaitCancelled(std::chrono::hours(1))) {
             }
             return absl::OkStatus();
           }}};
}

}  // namespace kim::build
