// Tests for lib/kube/user_access.h: the kim-user Role and ClusterRole grant exactly the CLI's
// calls (never the CA or server key Secrets), and a 403 gains the binding to make.
#include "lib/kube/user_access.h"

#include <set>

#include <catch2/catch.hpp>

#include "lib/kube/installer_objects.h"

namespace kim::kube {
namespace {

// Every (group, resource, name-or-*, verb) the rules grant.
std::set<std::string> Grants(const Json& role) {
  std::set<std::string> out;
  for (const Json& rule : role.at("rules").as_array()) {
    std::vector<std::string> names{"*"};
    if (rule.has_field("resourceNames")) {
      names.clear();
      for (const Json& n : rule.at("resourceNames").as_array()) names.push_back(n.as_string());
    }
    for (const Json& group : rule.at("apiGroups").as_array()) {
      for (const Json& resource : rule.at("resources").as_array()) {
        for (const std::string& name : names) {
          for (const Json& verb : rule.at("verbs").as_array()) {
            out.insert(group.as_string() + "/" + resource.as_string() + "/" + name + " " +
                       verb.as_string());
          }
        }
      }
    }
  }
  return out;
}

TEST_CASE("kim-user Role: exactly discovery, the client certificate, the tunnel and info",
          "[kube][rbac]") {
  const Json role = UserRoleObject("kube-image");
  CHECK(JsonString(role, {"metadata", "name"}) == "kim-user");
  CHECK(JsonString(role, {"metadata", "namespace"}) == "kube-image");
  CHECK(JsonString(role, {"metadata", "labels", kManagedByLabel}) == "kim");
  CHECK(Grants(role) == std::set<std::string>{
                            "/services/builder get",
                            "/endpoints/builder get",
                            "/secrets/kim-tls-client get",
                            "/secrets/kim-docker-config get",
                            "/pods/* list",
                            "/pods/portforward/* get",
                            "/pods/portforward/* create",
                            "apps/daemonsets/builder get",
                            "apps/daemonsets/agent-containerd get",
                            "apps/daemonsets/agent-k3s get",
                            "apps/daemonsets/agent-custom get",
                        });
  for (const std::string& grant : Grants(role)) {
    INFO(grant);
    CHECK(grant.find(kCaSecret) == std::string::npos);
    CHECK(grant.find(kServerSecret) == std::string::npos);
    CHECK(grant.find("/secrets/*") == std::string::npos);
  }
}

TEST_CASE("kim-user ClusterRole: list nodes only", "[kube][rbac]") {
  const Json role = UserClusterRoleObject();
  CHECK(JsonString(role, {"metadata", "name"}) == "kim-user");
  CHECK_FALSE(role.at("metadata").has_field("namespace"));
  CHECK(Grants(role) == std::set<std::string>{"/nodes/* list"});
}

TEST_CASE("a 403 names the binding a cluster admin makes", "[kube][rbac]") {
  const absl::Status denied = absl::PermissionDeniedError(
      "cannot get services \"builder\" in namespace \"kube-image\": forbidden for user \"alice\" "
      "(needs RBAC verb \"get\" on \"services\" in namespace \"kube-image\")");
  const absl::Status hinted = WithUserRoleHint(denied, "kube-image");
  CHECK(hinted.code() == absl::StatusCode::kPermissionDenied);
  CHECK(std::string(hinted.message()) ==
        std::string(denied.message()) +
            "; `kim system install` created the Role \"kim-user\" with what kim needs: a cluster "
            "admin grants it with `kubectl -n kube-image create rolebinding kim-user-alice "
            "--role=kim-user --user=alice` (docs/security.md)");

  const absl::Status sa = WithUserRoleHint(
      absl::PermissionDeniedError("cannot list nodes: forbidden for user "
                                  "\"system:serviceaccount:ci:builder\" (needs RBAC verb \"list\" "
                                  "on \"nodes\")"),
      "kube-image", UserScope::kCluster);
  CHECK(sa.message().find("`kubectl create clusterrolebinding kim-user-system-serviceaccount-ci-"
                          "builder --clusterrole=kim-user --serviceaccount=ci:builder`") !=
        std::string::npos);

  const absl::Status unknown =
      WithUserRoleHint(absl::PermissionDeniedError("forbidden for user \"?\""), "ns");
  CHECK(unknown.message().find("create rolebinding kim-user-USER --role=kim-user --user=USER") !=
        std::string::npos);

  const absl::Status other = absl::NotFoundError("gone");
  CHECK(WithUserRoleHint(other, "ns") == other);
}

}  // namespace
}  // namespace kim::kube
