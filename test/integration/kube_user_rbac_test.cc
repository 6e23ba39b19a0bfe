// The kim-user Role and ClusterRole against the real kube-apiserver (RBAC authorizer): a user
// with a client certificate signed by the peer's CA and bound only to kim-user discovers the
// builder, finds its pod and is let through to the pod's port-forward (the bare API server
// then cannot reach a kubelet: the error is the kubelet's, not a 403) and reads `kim system
// info`, through kim's own code paths and the kim binary; it cannot read the CA or server key
// Secrets, list Secrets or change the builder. A user without the binding gets an error naming
// the missing rule and the rolebinding to make; one with the Role but not the ClusterRole, the
// clusterrolebinding. Uninstall removes both roles.
// peers: kube-apiserver
// lock: builder-node-role
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "kim/connect.h"
#include "lib/connect/builder_route.h"
#include "lib/connect/connect_kube.h"
#include "lib/kube/installer.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/pki.h"
#include "lib/kube/user_access.h"
#include "test/support/kube_cluster.h"
#include "test/support/peers.h"
#include "test/support/temp_dir.h"

namespace kim::kube {
namespace {

using kim::test::CreateBuilderPod;
using kim::test::CreateNode;
using kim::test::Kim;
using kim::test::KubeAdmin;
using kim::test::KubeClient;
using kim::test::PeerEnv;
using kim::test::ReleaseNamespace;
using kim::test::SecretField;
using kim::test::SetPodReady;
using kim::test::TempDir;
using kim::test::UniqueName;

// A kubeconfig for Kubernetes user `user`: a client certificate with CN=user signed by the
// peer kube-apiserver's client CA (scripts/peers keeps it beside the admin kubeconfig).
std::string UserKubeconfig(const TempDir& dir, Client& admin, const std::string& user,
                           const std::string& ns) {
  const std::filesystem::path pki =
      std::filesystem::path(PeerEnv("KIM_TEST_KUBECONFIG")).parent_path() / "pki";
  const KeyPair ca{kim::test::FileContent((pki / "ca.pem").string()), kim::test::FileContent((pki / "ca-key.pem").string())};
  REQUIRE_FALSE(ca.cert_pem.empty());
  REQUIRE_FALSE(ca.key_pem.empty());
  auto cert = IssueCertificate(ca, {.common_name = user, .client_auth = true,
                                    .validity = absl::Hours(2)});
  INFO(cert.status());
  REQUIRE(cert.ok());
  const std::string yaml = absl::StrCat(
      "apiVersion: v1\nkind: Config\nclusters:\n- name: peers\n  cluster:\n    server: ",
      admin.config().server, "\n    certificate-authority-data: ",
      absl::Base64Escape(admin.config().ca_pem), "\nusers:\n- name: ", user,
      "\n  user:\n    client-certificate-data: ", absl::Base64Escape(cert->cert_pem),
      "\n    client-key-data: ", absl::Base64Escape(cert->key_pem), "\ncontexts:\n- name: ", user,
      "\n  context:\n    cluster: peers\n    user: ", user, "\n    namespace: ", ns,
      "\ncurrent-context: ", user, "\n");
  return dir.Write(user + ".kubeconfig", yaml, 0600);
}

// Binds `user` to the Role (in `ns`) or the ClusterRole kim-user, as
// `kubectl create rolebinding/clusterrolebinding --user` would.
void Bind(Client& admin, const std::string& user, const std::string& ns, bool cluster) {
  const std::string binding_name = absl::StrCat("kim-user-", user);
  Json binding = Json::parse(absl::StrCat(
      R"({"metadata":{"name":")", binding_name, R"("},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":")",
      cluster ? "ClusterRole" : "Role", R"(","name":"kim-user"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":")",
      user, R"("}]})"));
  auto created = admin.Create(cluster ? kClusterRoleBindings : kRoleBindings, cluster ? "" : ns,
                              binding);
  INFO(created.status());
  REQUIRE(created.ok());
}

// Waits (up to 10 s) until `user` may get the builder Service: the RBAC authorizer learns of
// new bindings from a watch, a moment later.
void WaitAuthorized(Client& user, const std::string& ns) {
  absl::Status last;
  for (int i = 0; i < 100; ++i) {
    last = user.Get(kServices, ns, kBuilderName).status();
    if (!absl::IsPermissionDenied(last)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(last);
  REQUIRE(last.ok());
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("kim-user: build and image discovery, the tunnel and info, but never the CA key",
          "[kube][rbac]") {
  auto admin = KubeAdmin();
  const std::string admin_kubeconfig = PeerEnv("KIM_TEST_KUBECONFIG");
  const std::string ns = UniqueName("kim-rbac");
  const std::string node = UniqueName("kim-rbac-node");
  // Hostname "localhost" and a kubelet port where nothing listens: the API server's port-forward
  // to the pod fails at once, after authorizing it.
  CreateNode(*admin, node, "10.11.12.14", 1);
  auto install = Kim({"-k", admin_kubeconfig, "-n", ns, "system", "install", "--no-wait",
                      "--selector", "kubernetes.io/hostname=" + node});
  REQUIRE(install.exit_code == 0);
  CHECK(Has(install.err, "Asserting RBAC for users: Role and ClusterRole `kim-user`"));

  // The stored roles are the installer's, rule for rule.
  auto role = admin->Get(kRoles, ns, kUserRoleName);
  INFO(role.status());
  REQUIRE(role.ok());
  // (parsed again: the stored object's keys come back in another order)
  CHECK(role->at("rules").serialize() ==
        Json::parse(UserRoleObject(ns).at("rules").serialize()).serialize());
  auto cluster_role = admin->Get(kClusterRoles, "", kUserRoleName);
  REQUIRE(cluster_role.ok());
  CHECK(cluster_role->at("rules").serialize() ==
        Json::parse(UserClusterRoleObject().at("rules").serialize()).serialize());
  const std::string pod = JsonString(CreateBuilderPod(*admin, ns, node), {"metadata", "name"});
  auto stored_pod = admin->Get(kPods, ns, pod);
  REQUIRE(stored_pod.ok());
  SetPodReady(*admin, *stored_pod);

  TempDir dir("kim-rbac");
  const std::string alice = UniqueName("alice");
  const std::string alice_kubeconfig = UserKubeconfig(dir, *admin, alice, ns);
  auto as_alice = KubeClient(alice_kubeconfig);
  Bind(*admin, alice, ns, false);
  Bind(*admin, alice, ns, true);
  WaitAuthorized(*as_alice, ns);

  SECTION("bound to kim-user: discovery, the client certificate, the builder pod, the tunnel") {
    ConnectOptions options{.kubeconfig = alice_kubeconfig, .namespace_name = ns, .tunnel = "always"};
    auto found = kim::DiscoverBuilder(options);
    INFO(found.status());
    REQUIRE(found.ok());
    CHECK(found->endpoint.host == "10.11.12.14");
    CHECK(found->endpoint.node_name == node);
    CHECK(found->endpoint.tls.cert == SecretField(*admin, ns, kClientSecret, "tls.crt"));
    CHECK(found->endpoint.tls.ca == SecretField(*admin, ns, kCaSecret, "tls.crt"));
    auto found_pod = FindBuilderPod(*as_alice, ns, node);
    INFO(found_pod.status());
    CHECK(found_pod.ok());
    CHECK(found_pod.value_or("") == pod);
    // The tunnel: authorized (get/create pods/portforward), then the kubelet is not there.
    auto route = RouteToBuilder(options, found->client, found->endpoint, found->endpoint.agent_port);
    REQUIRE_FALSE(route.ok());
    INFO(route.status());
    CHECK_FALSE(absl::IsPermissionDenied(route.status()));
    CHECK_FALSE(Has(std::string(route.status().message()), "forbidden"));
    CHECK(Has(std::string(route.status().message()), "cannot open a tunnel to pod \"" + pod));

    auto info = NewKubeInstaller(as_alice, ns)->Info();
    INFO(info.status());
    REQUIRE(info.ok());
    CHECK(info->nodes == std::vector<std::string>{node});
    CHECK(info->agent_endpoint == "10.11.12.14:1233");

    // The kim binary as alice: info works; images gets past every API read to the tunnel.
    auto cli_info = Kim({"-k", alice_kubeconfig, "-n", ns, "system", "info"});
    CHECK(cli_info.exit_code == 0);
    CHECK(Has(cli_info.out + cli_info.err, node));
    auto images = Kim({"-k", alice_kubeconfig, "-n", ns, "images", "--tunnel", "always"});
    CHECK(images.exit_code != 0);
    CHECK(Has(images.err, "cannot open a tunnel to pod \"" + pod));
    CHECK_FALSE(Has(images.err, "forbidden"));
  }

  SECTION("bound to kim-user: no CA key, no server key, no other Secret, no changes") {
    CHECK(as_alice->Get(kSecrets, ns, kClientSecret).ok());
    for (const char* secret : {kCaSecret, kServerSecret}) {
      auto read = as_alice->Get(kSecrets, ns, secret);
      INFO(secret << ": " << read.status());
      CHECK(absl::IsPermissionDenied(read.status()));
      CHECK(Has(std::string(read.status().message()), "forbidden for user \"" + alice + "\""));
    }
    CHECK(absl::IsPermissionDenied(as_alice->List(kSecrets, ns).status()));
    CHECK(absl::IsPermissionDenied(as_alice->Delete(kDaemonSets, ns, kBuilderName)));
    CHECK(absl::IsPermissionDenied(
        as_alice->MergePatch(kServices, ns, kBuilderName, Json::parse(R"({"metadata":{"labels":{"x":"y"}}})"))
            .status()));
    CHECK(absl::IsPermissionDenied(as_alice->Get(kRoles, ns, kUserRoleName).status()));
    CHECK(absl::IsPermissionDenied(as_alice->Get(kNodes, "", node).status()));  // list only
  }

  SECTION("not bound: the error names the missing rule and the rolebinding to make") {
    const std::string bob = UniqueName("bob");
    const std::string bob_kubeconfig = UserKubeconfig(dir, *admin, bob, ns);
    auto found = kim::DiscoverBuilder(ConnectOptions{.kubeconfig = bob_kubeconfig, .namespace_name = ns});
    REQUIRE(absl::IsPermissionDenied(found.status()));
    const std::string message(found.status().message());
    CHECK(Has(message, absl::StrCat("cannot get services \"builder\" in namespace \"", ns,
                                    "\": forbidden for user \"", bob, "\" (needs RBAC verb "
                                    "\"get\" on \"services\" in namespace \"", ns, "\")")));
    CHECK(Has(message, absl::StrCat("`kubectl -n ", ns, " create rolebinding kim-user-", bob,
                                    " --role=kim-user --user=", bob, "`")));
    auto images = Kim({"-k", bob_kubeconfig, "-n", ns, "images"});
    CHECK(images.exit_code != 0);
    CHECK(Has(images.err, "forbidden for user \"" + bob + "\""));
    CHECK(Has(images.err, "--role=kim-user --user=" + bob));
    const std::string context = dir / "context";
    dir.Write("context/Dockerfile", "FROM scratch\n");
    auto build = Kim({"-k", bob_kubeconfig, "-n", ns, "build", "-t", "x:1", context});
    CHECK(build.exit_code != 0);
    CHECK(Has(build.err, "--role=kim-user --user=" + bob));

    // With the Role only: discovery works, info names the node rule and the clusterrolebinding.
    Bind(*admin, bob, ns, false);
    auto as_bob = KubeClient(bob_kubeconfig);
    WaitAuthorized(*as_bob, ns);
    CHECK(kim::DiscoverBuilder(ConnectOptions{.kubeconfig = bob_kubeconfig, .namespace_name = ns}).ok());
    auto info = Kim({"-k", bob_kubeconfig, "-n", ns, "system", "info"});
    CHECK(info.exit_code != 0);
    CHECK(Has(info.err, "needs RBAC verb \"list\" on \"nodes\""));
    CHECK(Has(info.err, "`kubectl create clusterrolebinding kim-user-" + bob +
                            " --clusterrole=kim-user --user=" + bob + "`"));
    (void)admin->Delete(kRoleBindings, ns, "kim-user-" + bob);
  }

  // After every section: uninstall removes the Role and the ClusterRole (bindings stay: the
  // admin's).
  (void)admin->Delete(kClusterRoleBindings, "", "kim-user-" + alice);
  auto uninstall = Kim({"-k", admin_kubeconfig, "-n", ns, "system", "uninstall", "--no-wait"});
  CHECK(uninstall.exit_code == 0);
  CHECK(Has(uninstall.err, "Deleting the ClusterRole `kim-user`"));
  CHECK(absl::IsNotFound(admin->Get(kClusterRoles, "", kUserRoleName).status()));
  CHECK(absl::IsNotFound(admin->Get(kRoles, ns, kUserRoleName).status()));
  ReleaseNamespace(*admin, ns);
  (void)admin->Delete(kNodes, "", node);
}

}  // namespace
}  // namespace kim::kube
