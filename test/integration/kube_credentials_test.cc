// The registry credentials `kim system login` stores in the cluster serve builds (BuildKit's
// Auth attachable) and the agent's pulls, merged under the user's own Docker config: against
// the real API server, the auth registry, containerd and buildkitd of scripts/peers.
// peers: buildkitd containerd kube-apiserver registry
#include <signal.h>
#include <stdlib.h>

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "kim/credentials.h"
#include "lib/build/buildkit_client.h"
#include "lib/connect/connect_kube.h"
#include "lib/kube/cluster_credentials.h"
#include "lib/kube/installer.h"
#include "lib/kube/installer_objects.h"
#include "test/support/kube_cluster.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"
#include "test/support/temp_dir.h"

namespace kim {
namespace {

using kube::Json;
using test::Kim;
using test::PeerEnv;

// Points DOCKER_CONFIG at a fresh, empty directory for the scope.
class EmptyDockerConfig {
 public:
  EmptyDockerConfig() { setenv("DOCKER_CONFIG", dir_.path().c_str(), 1); }
  ~EmptyDockerConfig() { unsetenv("DOCKER_CONFIG"); }
  const test::TempDir& dir() const { return dir_; }

 private:
  test::TempDir dir_{"kim-docker"};
};

std::string User() { return PeerEnv("KIM_TEST_REGISTRY_USER"); }
std::string Password() { return PeerEnv("KIM_TEST_REGISTRY_PASSWORD"); }

void DeleteNamespace(kube::Client& client, const std::string& ns) {
  (void)client.Delete(kube::kNamespaces, "", ns);
  test::ReleaseNamespace(client, ns);
}

TEST_CASE("the credential store merges the cluster's login under the user's Docker config",
          "[kube][credentials]") {
  auto admin = test::KubeAdmin();
  const std::string ns = test::UniqueName("kim-it-creds");
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY_AUTH");
  EmptyDockerConfig docker;
  auto installer = kube::NewKubeInstaller(admin, ns);

  // Nothing stored yet: anonymous.
  auto got = CredentialStore(ClusterCredentials(*admin, ns)).CredentialsFor(registry);
  REQUIRE(got.ok());
  CHECK(got->empty());

  REQUIRE(installer->Login({.server = registry, .username = User(), .password = Password()}).ok());
  const CredentialStore store(ClusterCredentials(*admin, ns));
  got = store.CredentialsFor(registry);
  INFO(got.status());
  REQUIRE(got.ok());
  CHECK(got->username == User());
  CHECK(got->password == Password());
  CHECK(got->server_address == registry);

  // The user's own entry for the same registry wins (the store reads the user's config at
  // each lookup).
  docker.dir().Write("config.json", absl::StrCat(R"({"auths":{")", registry, R"(":{"auth":")",
                                                 EncodeAuth("local-user", "local-pw"), R"("}}})"));
  got = store.CredentialsFor(registry);
  REQUIRE(got.ok());
  CHECK(got->username == "local-user");
  CHECK(got->password == "local-pw");
  docker.dir().Write("config.json", "{}");

  // A user who may not read Secrets in the namespace keeps working with the local config.
  auto readonly = test::KubeClient(PeerEnv("KIM_TEST_KUBECONFIG_READONLY"));
  auto forbidden = kube::ReadClusterCredentials(*readonly, ns);
  CHECK(forbidden.status().code() == absl::StatusCode::kPermissionDenied);
  got = CredentialStore(ClusterCredentials(*readonly, ns)).CredentialsFor(registry);
  REQUIRE(got.ok());
  CHECK(got->empty());

  // After logout the cluster has nothing for the registry.
  REQUIRE(installer->Logout(registry).ok());
  got = CredentialStore(ClusterCredentials(*admin, ns)).CredentialsFor(registry);
  REQUIRE(got.ok());
  CHECK(got->empty());
  DeleteNamespace(*admin, ns);
}

// A BuildService for the peers' buildkitd (mutual TLS) answering logins from `credentials`.
std::unique_ptr<BuildService> PeersBuildKit(std::shared_ptr<const CredentialStore> credentials) {
  const std::string tls = PeerEnv("KIM_TEST_BUILDKIT_TLS_DIR");
  build::BuildKitOptions options{.address = PeerEnv("KIM_TEST_BUILDKIT_ADDR")};
  options.tls = {.ca = test::ReadTextFile(tls + "/ca.pem"),
                 .cert = test::ReadTextFile(tls + "/cert.pem"),
                 .key = test::ReadTextFile(tls + "/key.pem")};
  options.credentials = std::move(credentials);
  auto service = build::NewBuildKitService(options);
  INFO(service.status());
  REQUIRE(service.ok());
  return *std::move(service);
}

TEST_CASE("a build pulls FROM the auth registry with the credentials stored in the cluster",
          "[kube][credentials][build]") {
  auto admin = test::KubeAdmin();
  const std::string ns = test::UniqueName("kim-it-build-creds");
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY_AUTH");
  EmptyDockerConfig docker;
  test::TempDir context("kim-ctx");
  context.Write("Dockerfile", absl::StrCat("FROM ", registry, "/hello:1\n"));
  BuildOptions options{.context_dir = context.path(), .no_cache = true, .pull = true,
                       .export_untagged = true};

  // Without the cluster's login the registry refuses the daemon.
  auto refused = PeersBuildKit(std::make_shared<const CredentialStore>(ClusterCredentials(*admin, ns)))
                     ->Build(options, [](const BuildEvent&) {});
  INFO(refused.status());
  CHECK_FALSE(refused.ok());
  CHECK(refused.status().message().find("401") != std::string::npos);

  REQUIRE(kube::NewKubeInstaller(admin, ns)
              ->Login({.server = registry, .username = User(), .password = Password()})
              .ok());
  auto built = PeersBuildKit(std::make_shared<const CredentialStore>(ClusterCredentials(*admin, ns)))
                   ->Build(options, [](const BuildEvent&) {});
  INFO(built.status());
  CHECK(built.ok());
  DeleteNamespace(*admin, ns);
}

// The port of a "tcp://HOST:PORT" address.
std::string PortOf(const std::string& address) { return address.substr(address.rfind(':') + 1); }

TEST_CASE("kim pull and kim build in cluster mode use the credentials of kim system login",
          "[kube][credentials][cli]") {
  auto admin = test::KubeAdmin();
  const std::string kubeconfig = PeerEnv("KIM_TEST_KUBECONFIG");
  const std::string ns = test::UniqueName("kim-it-cluster-creds");
  const std::string node = test::UniqueName("kim-node");
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY_AUTH");
  test::CreateNode(*admin, node, "10.11.12.20");
  // The builder's endpoint is this machine: a kim-agent on the peers' containerd with the
  // installed server certificate, and (below) the peers' buildkitd.
  const int agent_port = test::FreeLoopbackPort();
  const std::string buildkit_port = PortOf(PeerEnv("KIM_TEST_BUILDKIT_ADDR"));
  REQUIRE(Kim({"-k", kubeconfig, "-n", ns, "system", "install", "--no-wait", "--selector",
               "kubernetes.io/hostname=" + node, "--endpoint-addr", "127.0.0.1", "--agent-port",
               std::to_string(agent_port), "--buildkit-port", buildkit_port},
              "", {}).exit_code == 0);
  test::TempDir certs("kim-certs");
  for (const char* file : {"ca.crt", "tls.crt", "tls.key"}) {
    certs.Write(file, test::SecretField(*admin, ns, kube::kServerSecret, file), 0600);
  }
  test::Daemon agent({KIM_AGENT_BINARY, "--listen", absl::StrCat("127.0.0.1:", agent_port),
                      "--containerd-socket", PeerEnv("KIM_TEST_CONTAINERD_SOCKET"),
                      "--tlscacert", certs / "ca.crt", "--tlscert", certs / "tls.crt",
                      "--tlskey", certs / "tls.key"});
  REQUIRE_FALSE(agent.WaitForLine("serving on port").empty());
  test::TempDir docker("kim-docker");  // the user's own Docker config: empty
  const std::map<std::string, std::string> env = {{"DOCKER_CONFIG", docker.path()},
                                                  {"KIM_CONTAINERD_SOCKET", ""},
                                                  {"KIM_AGENT_ADDR", ""},
                                                  {"KIM_BUILDKIT_ADDR", ""}};
  const std::vector<std::string> cluster = {"-k", kubeconfig, "-n", ns};
  auto with = [&cluster](std::vector<std::string> args) {
    args.insert(args.begin(), cluster.begin(), cluster.end());
    return args;
  };

  const std::string image = registry + "/busybox:1";
  auto refused = Kim(with({"pull", image}), "", env);
  CHECK(refused.exit_code == 1);
  REQUIRE(Kim(with({"system", "login", "-u", User(), "--password-stdin", registry}),
              Password() + "\n", env).exit_code == 0);
  auto pulled = Kim(with({"pull", image}), "", env);
  CHECK(pulled.exit_code == 0);
  CHECK(pulled.out.find("Status: ") != std::string::npos);
  agent.Stop(SIGTERM);

  // Build through the discovered builder: the client Secret now holds the peers' buildkitd
  // client certificate (kim's own buildkitd does not run here).
  const std::string tls = PeerEnv("KIM_TEST_BUILDKIT_TLS_DIR");
  auto client_secret = admin->Get(kube::kSecrets, ns, kube::kClientSecret);
  REQUIRE(client_secret.ok());
  for (const auto& [key, file] : {std::pair{"ca.crt", "ca.pem"}, std::pair{"tls.crt", "cert.pem"},
                                  std::pair{"tls.key", "key.pem"}}) {
    (*client_secret)["data"][key] =
        Json::string(absl::Base64Escape(test::ReadTextFile(tls + "/" + file)));
  }
  REQUIRE(admin->Update(kube::kSecrets, ns, *client_secret).ok());
  test::TempDir context("kim-ctx");
  context.Write("Dockerfile", absl::StrCat("FROM ", registry, "/busybox:2\n"));
  auto built = Kim(with({"build", "--pull", "--no-cache", context.path()}), "", env);
  CHECK(built.exit_code == 0);

  REQUIRE(Kim(with({"system", "logout", registry}), "", env).exit_code == 0);
  auto anonymous = Kim(with({"build", "--pull", "--no-cache", context.path()}), "", env);
  CHECK(anonymous.exit_code == 1);
  CHECK(anonymous.err.find("401") != std::string::npos);

  DeleteNamespace(*admin, ns);
  (void)admin->Delete(kube::kNodes, "", node);
}

}  // namespace
}  // namespace kim
