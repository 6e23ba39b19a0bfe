// Tests for lib/kube/client.h's pure parts (API errors) and lib/kube/pki.h.
#include "lib/kube/client.h"

#include <catch2/catch.hpp>

#include "lib/kube/pki.h"

namespace kim::kube {
namespace {

TEST_CASE("kube errors: 403 names the user and the missing RBAC rule", "[kube][client]") {
  const std::string body =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces is forbidden: User \"kim-readonly\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope","reason":"Forbidden","code":403})";
  absl::Status status = ApiError(403, body, "list", kNamespaces, "", "");
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() ==
        "cannot list namespaces: forbidden for user \"kim-readonly\" (needs RBAC verb \"list\" on "
        "\"namespaces\")");
  status = ApiError(403, body, "create", kDaemonSets, "kube-image", "builder");
  CHECK(status.message() ==
        "cannot create daemonsets \"builder\" in namespace \"kube-image\": forbidden for user "
        "\"kim-readonly\" (needs RBAC verb \"create\" on \"daemonsets\" in API group \"apps\" in "
        "namespace \"kube-image\")");
  status = ApiError(403, "not json", "update", kDaemonSets, "ns", "builder", "status");
  CHECK(status.message().find("forbidden for user \"?\" (needs RBAC verb \"update\" on "
                              "\"daemonsets/status\"") != std::string::npos);
}

TEST_CASE("kube errors: codes map to statuses", "[kube][client]") {
  CHECK(ApiError(404, "{}", "get", kSecrets, "ns", "x").message() ==
        "cannot get secrets \"x\" in namespace \"ns\": not found");
  CHECK(absl::IsNotFound(ApiError(404, "{}", "get", kSecrets, "ns", "x")));
  CHECK(absl::IsAlreadyExists(ApiError(409, R"({"reason":"AlreadyExists"})", "create", kNodes, "", "n")));
  CHECK(absl::IsAborted(ApiError(409, R"({"reason":"Conflict","message":"changed"})", "update", kNodes, "", "n")));
  CHECK(absl::IsUnauthenticated(ApiError(401, "{}", "get", kNodes, "", "n")));
  CHECK(absl::IsInvalidArgument(ApiError(422, R"({"message":"spec.x: Invalid value"})", "create", kPods, "ns", "p")));
  CHECK(absl::IsFailedPrecondition(ApiError(410, "{}", "watch", kPods, "ns", "")));
  CHECK(absl::IsUnavailable(ApiError(503, "{}", "get", kPods, "ns", "p")));
}

TEST_CASE("kube json accessors", "[kube][client]") {
  Json object = Json::parse(R"({"metadata":{"name":"a","generation":3},"x":[1]})");
  CHECK(JsonString(object, {"metadata", "name"}) == "a");
  CHECK(JsonInt(object, {"metadata", "generation"}) == 3);
  CHECK(JsonString(object, {"metadata", "missing"}).empty());
  CHECK(JsonAt(object, {"x", "y"}) == nullptr);
  CHECK(ApiVersion(kDaemonSets) == "apps/v1");
  CHECK(ApiVersion(kSecrets) == "v1");
}

TEST_CASE("pki: CA, server and client certificates", "[kube][pki]") {
  auto ca = NewCertificateAuthority("kim-ca", absl::Hours(24 * 3650));
  REQUIRE(ca.ok());
  auto ca_info = InspectCertificate(ca->cert_pem);
  REQUIRE(ca_info.ok());
  CHECK(ca_info->is_ca);
  CHECK(ca_info->common_name == "kim-ca");
  CertificateRequest request{.common_name = "kim-builder",
                             .dns_names = {"builder.kube-image.svc", "node1"},
                             .ip_addresses = {"10.0.0.5", "fd00::5"},
                             .server_auth = true,
                             .validity = absl::Hours(48)};
  auto server = IssueCertificate(*ca, request);
  REQUIRE(server.ok());
  auto info = InspectCertificate(server->cert_pem);
  REQUIRE(info.ok());
  CHECK_FALSE(info->is_ca);
  CHECK(info->dns_names == std::vector<std::string>{"builder.kube-image.svc", "node1"});
  CHECK(info->ip_addresses == std::vector<std::string>{"10.0.0.5", "fd00::5"});
  CHECK(info->not_after - absl::Now() > absl::Hours(47));
  CHECK(info->not_after - absl::Now() <= absl::Hours(48));
  CHECK(server->key_pem.find("PRIVATE KEY") != std::string::npos);
  CHECK(CheckKeyPair(ca->cert_pem, *server).ok());

  auto other_ca = NewCertificateAuthority("other", absl::Hours(1));
  REQUIRE(other_ca.ok());
  CHECK(CheckKeyPair(other_ca->cert_pem, *server).message().find("does not verify") !=
        std::string::npos);
  auto client = IssueCertificate(*ca, {.common_name = "kim-client", .client_auth = true});
  REQUIRE(client.ok());
  CHECK(CheckKeyPair(ca->cert_pem, KeyPair{server->cert_pem, client->key_pem})
            .message()
            .find("does not belong") != std::string::npos);
  CHECK_FALSE(InspectCertificate("garbage").ok());
}

}  // namespace
}  // namespace kim::kube
