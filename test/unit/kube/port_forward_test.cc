// Tests for the refusal messages of the API-server tunnel (lib/kube/port_forward_stream.h).
#include "lib/kube/port_forward_stream.h"

#include <catch2/catch.hpp>

namespace kim::kube {
namespace {

const PortForwardOptions kOptions{.namespace_name = "kube-image", .pod = "builder-x", .port = 1233};

TEST_CASE("tunnel: a 403 names the user and the RBAC rule the tunnel needs", "[kube][tunnel]") {
  const UpgradeRefusal refusal{
      .http_status = 403,
      .body = R"({"kind":"Status","message":"pods \"builder-x\" is forbidden: User \"system:serviceaccount:kube-image:ro\" cannot get resource \"pods/portforward\" in API group \"\" in the namespace \"kube-image\"","code":403})"};
  absl::Status status = DescribeRefusal(kOptions, refusal, absl::UnavailableError("declined"));
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() ==
        "cannot open a tunnel to pod \"builder-x\" in namespace \"kube-image\" (port 1233) through "
        "the API server: forbidden for user \"system:serviceaccount:kube-image:ro\" (needs RBAC "
        "verbs \"get\" and \"create\" on \"pods/portforward\" in namespace \"kube-image\")");
}

TEST_CASE("tunnel: other refusals", "[kube][tunnel]") {
  const absl::Status declined = absl::UnavailableError("upgrade: declined");
  CHECK(DescribeRefusal(kOptions, {.http_status = 404, .body = "{}"}, declined).code() ==
        absl::StatusCode::kNotFound);
  CHECK(DescribeRefusal(kOptions, {.http_status = 401, .body = ""}, declined).code() ==
        absl::StatusCode::kUnauthenticated);
  absl::Status status = DescribeRefusal(
      kOptions, {.http_status = 400, .body = R"({"message":"Upgrade request required"})"}, declined);
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(status.message().find("HTTP 400: Upgrade request required") != std::string::npos);
  status = DescribeRefusal(kOptions, {}, absl::UnavailableError("connect: Connection refused"));
  CHECK(status.message().find("through the API server: connect: Connection refused") !=
        std::string::npos);
}

}  // namespace
}  // namespace kim::kube
