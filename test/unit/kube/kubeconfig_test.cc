// Tests for lib/kube/kubeconfig.h and exec_credential.h: client-go's loading, merging and
// resolution rules, on files written into a fresh temporary directory per test.
#include "lib/kube/kubeconfig.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"

#include "absl/strings/escaping.h"
#include "lib/kube/exec_credential.h"

namespace kim::kube {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/kim-kubeconfig-test.XXXXXX";
    path_ = mkdtemp(templ);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text, int mode = 0600) const {
    const std::string file = path_ + "/" + name;
    fs::create_directories(fs::path(file).parent_path());
    std::ofstream(file) << text;
    chmod(file.c_str(), mode);
    return file;
  }

 private:
  std::string path_;
};

std::string Config(const std::string& cluster, const std::string& server,
                   const std::string& user, const std::string& user_body,
                   const std::string& current = "") {
  return "apiVersion: v1\nkind: Config\n" +
         (current.empty() ? std::string() : "current-context: " + current + "\n") +
         "clusters:\n- name: " + cluster + "\n  cluster:\n    server: " + server +
         "\nusers:\n- name: " + user + "\n  user:\n" + user_body + "contexts:\n- name: " +
         cluster + "\n  context:\n    cluster: " + cluster + "\n    user: " + user + "\n";
}

LoadOptions Isolated(const TempDir& dir) {
  LoadOptions options;
  options.home = dir.path() + "/home";
  options.service_account_dir = dir.path() + "/sa";
  return options;
}

TEST_CASE("kubeconfig: ~/.kube/config with inline token", "[kube][kubeconfig]") {
  TempDir dir;
  dir.Write("home/.kube/config",
            Config("c1", "https://10.0.0.1:6443/", "u1", "    token: abc\n", "c1"));
  auto config = LoadRestConfig(Isolated(dir));
  REQUIRE(config.ok());
  CHECK(config->server == "https://10.0.0.1:6443");
  CHECK(config->bearer_token == "abc");
  CHECK(config->context_name == "c1");
  CHECK(config->user_name == "u1");
}

TEST_CASE("kubeconfig: KUBECONFIG list merges, first file wins per key and for current-context",
          "[kube][kubeconfig]") {
  TempDir dir;
  const std::string a = dir.Write("a.yaml", Config("shared", "https://a:1", "ua", "    token: ta\n", "shared"));
  const std::string b = dir.Write(
      "b.yaml", Config("shared", "https://b:1", "ub", "    token: tb\n", "other") +
                    "- name: only-b\n  context:\n    cluster: shared\n    user: ub\n"
                    "    namespace: nsb\n");
  auto options = Isolated(dir);
  options.kubeconfig_env = a + ":" + dir.path() + "/missing.yaml:" + b;
  auto config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->server == "https://a:1");   // cluster "shared" from a
  CHECK(config->bearer_token == "ta");
  CHECK(config->source == a + ":" + b);

  options.context = "only-b";                // a context only b has, against a's cluster
  config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->server == "https://a:1");
  CHECK(config->bearer_token == "tb");
  CHECK(config->namespace_name == "nsb");

  options.kubeconfig_env = b + ":" + a;      // order reversed: b wins
  options.context = "";
  config = LoadRestConfig(options);
  REQUIRE_FALSE(config.ok());                // b's current-context "other" does not exist
  CHECK(config.status().message().find("context \"other\" does not exist") != std::string::npos);
}

TEST_CASE("kubeconfig: KUBECONFIG set means ~/.kube/config is not read", "[kube][kubeconfig]") {
  TempDir dir;
  dir.Write("home/.kube/config", Config("home", "https://home:1", "u", "    token: t\n", "home"));
  const std::string a = dir.Write("a.yaml", Config("a", "https://a:1", "u", "    token: t\n", "a"));
  auto options = Isolated(dir);
  options.kubeconfig_env = a;
  auto config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->server == "https://a:1");
  options.context = "home";
  CHECK(LoadRestConfig(options).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("kubeconfig: k3s fallbacks are merged after the primary files", "[kube][kubeconfig]") {
  TempDir dir;
  const std::string k3s =
      dir.Write("home/.kube/k3s.yaml", Config("default", "https://127.0.0.1:6443", "default",
                                              "    token: k3s\n", "default"));
  auto options = Isolated(dir);
  options.fallback_paths = {k3s, dir.path() + "/etc/rancher/k3s/k3s.yaml"};
  auto config = LoadRestConfig(options);  // no ~/.kube/config: the k3s file alone
  REQUIRE(config.ok());
  CHECK(config->bearer_token == "k3s");

  dir.Write("home/.kube/config", Config("main", "https://main:1", "m", "    token: m\n", "main"));
  config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->server == "https://main:1");  // the primary file's current-context wins
  options.context = "default";               // the k3s context is still reachable
  config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->bearer_token == "k3s");
}

TEST_CASE("kubeconfig: --kubeconfig files must exist, and win over KUBECONFIG",
          "[kube][kubeconfig]") {
  TempDir dir;
  const std::string a = dir.Write("a.yaml", Config("a", "https://a:1", "u", "    token: t\n", "a"));
  auto options = Isolated(dir);
  options.kubeconfig_env = dir.path() + "/nothing.yaml";
  options.explicit_paths = a;
  REQUIRE(LoadRestConfig(options).ok());
  options.explicit_paths = dir.path() + "/absent.yaml";
  auto config = LoadRestConfig(options);
  REQUIRE(config.status().code() == absl::StatusCode::kNotFound);
  CHECK(config.status().message() ==
        "kubeconfig \"" + dir.path() + "/absent.yaml\": no such file");
}

TEST_CASE("kubeconfig: bad YAML names the file and the line", "[kube][kubeconfig]") {
  TempDir dir;
  const std::string bad = dir.Write("bad.yaml", "apiVersion: v1\nclusters:\n- name: [x\n  y: }\n");
  auto options = Isolated(dir);
  options.explicit_paths = bad;
  auto config = LoadRestConfig(options);
  REQUIRE(config.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(config.status().message(),
                        "kubeconfig \"" + bad + "\": invalid YAML at line "));
  const std::string scalar = dir.Write("scalar.yaml", "just text\n");
  options.explicit_paths = scalar;
  CHECK(LoadRestConfig(options).status().message().find("expected a YAML map") != std::string::npos);
  const std::string shape = dir.Write("shape.yaml", "clusters: 3\n");
  options.explicit_paths = shape;
  CHECK(LoadRestConfig(options).status().message().find("\"clusters\" is not a list") !=
        std::string::npos);
}

TEST_CASE("kubeconfig: unknown context, cluster, user, no current-context", "[kube][kubeconfig]") {
  TempDir dir;
  auto options = Isolated(dir);
  options.explicit_paths = dir.Write("a.yaml", Config("a", "https://a:1", "u", "    token: t\n"));
  auto config = LoadRestConfig(options);
  CHECK(config.status().message().find("sets no current-context") != std::string::npos);
  options.context = "nope";
  config = LoadRestConfig(options);
  CHECK(config.status().message() ==
        "context \"nope\" does not exist in kubeconfig (" + options.explicit_paths + ")");
  options.explicit_paths = dir.Write(
      "b.yaml", "contexts:\n- name: x\n  context:\n    cluster: gone\n    user: u\n");
  options.context = "x";
  CHECK(LoadRestConfig(options).status().message().find("cluster \"gone\" does not exist") !=
        std::string::npos);
  options.explicit_paths = dir.Write(
      "c.yaml", "clusters:\n- name: c\n  cluster:\n    server: https://c\ncontexts:\n- name: x\n"
                "  context:\n    cluster: c\n    user: ghost\n");
  CHECK(LoadRestConfig(options).status().message().find("user \"ghost\" does not exist") !=
        std::string::npos);
  options.explicit_paths = dir.Write(
      "d.yaml", "clusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: x\n"
                "  context:\n    cluster: c\n");
  CHECK(LoadRestConfig(options).status().message().find("has no server") != std::string::npos);
}

TEST_CASE("kubeconfig: certificates from files relative to the kubeconfig, or inline data",
          "[kube][kubeconfig]") {
  TempDir dir;
  dir.Write("conf/pki/ca.pem", "CA PEM");
  dir.Write("conf/pki/cert.pem", "CERT PEM");
  dir.Write("conf/pki/key.pem", "KEY PEM");
  auto options = Isolated(dir);
  options.explicit_paths = dir.Write(
      "conf/kubeconfig",
      "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: https://c\n"
      "    certificate-authority: pki/ca.pem\n    tls-server-name: api.internal\n"
      "users:\n- name: u\n  user:\n    client-certificate: pki/cert.pem\n"
      "    client-key: " + dir.path() + "/conf/pki/key.pem\n"
      "contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n    namespace: ns1\n");
  auto config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->ca_pem == "CA PEM");
  CHECK(config->client_cert_pem == "CERT PEM");
  CHECK(config->client_key_pem == "KEY PEM");
  CHECK(config->tls_server_name == "api.internal");
  CHECK(config->namespace_name == "ns1");

  options.explicit_paths = dir.Write(
      "inline.yaml",
      "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: https://c\n"
      "    certificate-authority-data: " + absl::Base64Escape("CA2") + "\n"
      "users:\n- name: u\n  user:\n    client-certificate-data: " + absl::Base64Escape("C2") +
      "\n    client-key-data: " + absl::Base64Escape("K2") + "\n"
      "contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n");
  config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->ca_pem == "CA2");
  CHECK(config->client_cert_pem == "C2");
  CHECK(config->client_key_pem == "K2");
}

TEST_CASE("kubeconfig: a missing certificate file or bad base64 is an error naming it",
          "[kube][kubeconfig]") {
  TempDir dir;
  auto options = Isolated(dir);
  options.explicit_paths = dir.Write(
      "a.yaml", "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: https://c\n"
                "    certificate-authority: nothere.pem\ncontexts:\n- name: x\n  context:\n"
                "    cluster: c\n");
  auto config = LoadRestConfig(options);
  REQUIRE(config.status().code() == absl::StatusCode::kNotFound);
  CHECK(config.status().message().find(dir.path() + "/nothere.pem") != std::string::npos);
  options.explicit_paths = dir.Write(
      "b.yaml", "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: https://c\n"
                "    certificate-authority-data: '!!notbase64'\ncontexts:\n- name: x\n  context:\n"
                "    cluster: c\n");
  CHECK(LoadRestConfig(options).status().message().find("not valid base64") != std::string::npos);
}

TEST_CASE("kubeconfig: insecure-skip-tls-verify, and not together with a CA", "[kube][kubeconfig]") {
  TempDir dir;
  auto options = Isolated(dir);
  options.explicit_paths = dir.Write(
      "a.yaml", "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: https://c\n"
                "    insecure-skip-tls-verify: true\ncontexts:\n- name: x\n  context:\n"
                "    cluster: c\n");
  auto config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->insecure_skip_tls_verify);
  options.explicit_paths = dir.Write(
      "b.yaml", "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: https://c\n"
                "    insecure-skip-tls-verify: true\n    certificate-authority-data: " +
                    absl::Base64Escape("CA") + "\ncontexts:\n- name: x\n  context:\n    cluster: c\n");
  CHECK(LoadRestConfig(options).status().message().find("insecure flag is not allowed") !=
        std::string::npos);
}

TEST_CASE("kubeconfig: token file, basic auth, client cert without key", "[kube][kubeconfig]") {
  TempDir dir;
  dir.Write("tok", "file-token\n");
  auto options = Isolated(dir);
  options.explicit_paths = dir.Write("a.yaml", Config("c", "https://c", "u", "    tokenFile: tok\n", "c"));
  auto config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->bearer_token == "file-token");
  CHECK(config->token_file == dir.path() + "/tok");
  options.explicit_paths = dir.Write(
      "b.yaml", Config("c", "https://c", "u", "    username: admin\n    password: s3cret\n", "c"));
  config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->username == "admin");
  CHECK(config->password == "s3cret");
  options.explicit_paths = dir.Write(
      "c.yaml", Config("c", "https://c", "u",
                       "    client-certificate-data: " + absl::Base64Escape("C") + "\n", "c"));
  CHECK(LoadRestConfig(options).status().message().find("without a key") != std::string::npos);
}

TEST_CASE("kubeconfig: exec plugin settings and unsupported apiVersion or auth-provider",
          "[kube][kubeconfig]") {
  TempDir dir;
  auto options = Isolated(dir);
  options.explicit_paths = dir.Write(
      "a.yaml",
      Config("c", "https://c", "u",
             "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
             "      command: ./bin/plugin\n      args: [get-token, --x]\n"
             "      env:\n      - name: A\n        value: b\n"
             "      provideClusterInfo: true\n      interactiveMode: Never\n",
             "c"));
  auto config = LoadRestConfig(options);
  REQUIRE(config.ok());
  REQUIRE(config->exec.has_value());
  CHECK(config->exec->command == dir.path() + "/bin/plugin");
  CHECK(config->exec->args == std::vector<std::string>{"get-token", "--x"});
  REQUIRE(config->exec->env.size() == 1);
  CHECK(config->exec->env[0].first == "A");
  CHECK(config->exec->provide_cluster_info);

  options.explicit_paths = dir.Write(
      "b.yaml", Config("c", "https://c", "u",
                       "    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n"
                       "      command: aws\n", "c"));
  CHECK(LoadRestConfig(options).status().message().find("v1alpha1") != std::string::npos);
  options.explicit_paths = dir.Write(
      "c.yaml", Config("c", "https://c", "u", "    auth-provider:\n      name: gcp\n", "c"));
  CHECK(LoadRestConfig(options).status().code() == absl::StatusCode::kUnimplemented);
}

TEST_CASE("kubeconfig: in-cluster service account when no file exists", "[kube][kubeconfig]") {
  TempDir dir;
  auto options = Isolated(dir);
  auto config = LoadRestConfig(options);
  REQUIRE(config.status().code() == absl::StatusCode::kNotFound);
  CHECK(config.status().message().find("no Kubernetes configuration found") != std::string::npos);
  dir.Write("sa/token", "sa-token\n");
  dir.Write("sa/ca.crt", "SA CA");
  dir.Write("sa/namespace", "kube-image\n");
  options.in_cluster_host = "10.43.0.1";
  options.in_cluster_port = "443";
  config = LoadRestConfig(options);
  REQUIRE(config.ok());
  CHECK(config->server == "https://10.43.0.1:443");
  CHECK(config->bearer_token == "sa-token");
  CHECK(config->ca_pem == "SA CA");
  CHECK(config->namespace_name == "kube-image");
  CHECK(config->source == "in-cluster");
  options.in_cluster_host = "fd00::1";
  CHECK(LoadRestConfig(options)->server == "https://[fd00::1]:443");
}

TEST_CASE("kubeconfig: empty file is an empty config", "[kube][kubeconfig]") {
  TempDir dir;
  auto options = Isolated(dir);
  const std::string empty = dir.Write("empty.yaml", "");
  const std::string a = dir.Write("a.yaml", Config("a", "https://a:1", "u", "    token: t\n", "a"));
  options.kubeconfig_env = empty + ":" + a;
  REQUIRE(LoadRestConfig(options).ok());
}

TEST_CASE("exec credential: parse v1 answers", "[kube][exec]") {
  const std::string v1 = "client.authentication.k8s.io/v1";
  auto token = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"token":"t1","expirationTimestamp":"2030-01-02T03:04:05Z"}})", v1);
  REQUIRE(token.ok());
  CHECK(token->token == "t1");
  CHECK(token->expiry == absl::FromUnixSeconds(1893553445));
  auto certs = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"clientCertificateData":"C","clientKeyData":"K"}})", v1);
  REQUIRE(certs.ok());
  CHECK(certs->expiry == absl::InfiniteFuture());
  CHECK_FALSE(ParseExecCredential("not json", v1).ok());
  CHECK_FALSE(ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",
          "status":{"token":"t"}})", v1).ok());
  CHECK_FALSE(ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})",
      v1).ok());
  CHECK_FALSE(ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"clientCertificateData":"C"}})", v1).ok());
  CHECK_FALSE(ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"token":"t","expirationTimestamp":"tomorrow"}})", v1).ok());
}

TEST_CASE("exec credential: runs the plugin with env and args, caches until expiry",
          "[kube][exec]") {
  TempDir dir;
  // The plugin counts its runs, echoes its env and args and KUBERNETES_EXEC_INFO into the token.
  const std::string plugin = dir.Write(
      "plugin.sh",
      "#!/bin/sh\necho run >> \"$COUNT_FILE\"\n"
      "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 3;; esac\n"
      "case \"$KUBERNETES_EXEC_INFO\" in *'\"server\":\"https://c\"'*) ci=yes;; *) ci=no;; esac\n"
      "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
      "\"status\":{\"token\":\"%s-%s-%s\",\"expirationTimestamp\":\"%s\"}}' "
      "\"$GREETING\" \"$1\" \"$ci\" \"$EXPIRY\"\n",
      0755);
  ExecConfig exec;
  exec.api_version = "client.authentication.k8s.io/v1";
  exec.command = plugin;
  exec.args = {"arg1"};
  exec.provide_cluster_info = true;
  const std::string count = dir.path() + "/count";
  exec.env = {{"GREETING", "hi"}, {"COUNT_FILE", count},
              {"EXPIRY", absl::FormatTime(absl::RFC3339_sec, absl::Now() + absl::Hours(1),
                                          absl::UTCTimeZone())}};
  ExecCredentialProvider provider(exec, "https://c", "", false);
  auto first = provider.Get();
  REQUIRE(first.ok());
  CHECK(first->token == "hi-arg1-yes");
  REQUIRE(provider.Get().ok());
  CHECK(provider.runs() == 1);
  provider.Invalidate();
  REQUIRE(provider.Get().ok());
  CHECK(provider.runs() == 2);

  // Already expired: every Get runs the plugin again.
  exec.env[2].second = "2000-01-01T00:00:00Z";
  ExecCredentialProvider expired(exec, "https://c", "", false);
  REQUIRE(expired.Get().ok());
  REQUIRE(expired.Get().ok());
  CHECK(expired.runs() == 2);
}

TEST_CASE("exec credential: failing or missing plugin", "[kube][exec]") {
  TempDir dir;
  ExecConfig exec;
  exec.api_version = "client.authentication.k8s.io/v1";
  exec.command = dir.Write("fail.sh", "#!/bin/sh\necho 'token expired, run login' >&2\nexit 2\n", 0755);
  auto failed = ExecCredentialProvider(exec, "https://c", "", false).Get();
  REQUIRE(failed.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(failed.status().message().find("exit code 2: token expired, run login") != std::string::npos);
  exec.command = "kim-no-such-plugin";
  exec.install_hint = "install it with apt";
  auto missing = ExecCredentialProvider(exec, "https://c", "", false).Get();
  CHECK(missing.status().message() ==
        "exec credential plugin \"kim-no-such-plugin\" not found: install it with apt");
  exec.command = dir.Write("garbage.sh", "#!/bin/sh\necho hello\n", 0755);
  CHECK(ExecCredentialProvider(exec, "https://c", "", false).Get().status().message().find(
            "not JSON") != std::string::npos);
}

}  // namespace
}  // namespace kim::kube
