// Kubeconfig loading with client-go's rules: which files, how they merge, which context, and
// what a context resolves to (server, TLS material, credentials). Internal to libkim.
#ifndef KIM_LIB_KUBE_KUBECONFIG_H_
#define KIM_LIB_KUBE_KUBECONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace kim::kube {

// A `users[].user.exec` credential plugin (client.authentication.k8s.io).
struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;      // resolved against the kubeconfig's directory when it is relative
                            // and contains a '/'
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  bool provide_cluster_info = false;
  std::string install_hint;
};

// Everything needed to talk to one API server, with files already read.
struct RestConfig {
  std::string server;                 // https://host:port (no trailing slash)
  std::string ca_pem;                 // empty = the system's trust store
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;        // name to verify the server's certificate against
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string bearer_token;
  std::string token_file;             // re-read periodically (service-account tokens rotate)
  std::string username;               // basic auth
  std::string password;
  std::optional<ExecConfig> exec;
  std::string namespace_name;         // the context's namespace; empty when it sets none
  std::string context_name;           // empty for the in-cluster configuration
  std::string user_name;              // the kubeconfig user entry (for messages)
  std::string source;                 // the files it came from, or "in-cluster"
};

// Where to look. LoadOptionsFromEnvironment fills it from the process environment; tests fill
// it by hand.
struct LoadOptions {
  // --kubeconfig: a path list like $KUBECONFIG; when set, $KUBECONFIG is not consulted and every
  // file named must exist.
  std::string explicit_paths;
  std::string context;                         // --context; empty = current-context
  std::optional<std::string> kubeconfig_env;   // $KUBECONFIG (unset = nullopt)
  std::string home;                            // $HOME
  // Merged after the primary files (k3s: ~/.kube/k3s.yaml, /etc/rancher/k3s/k3s.yaml); files
  // that do not exist or cannot be read are skipped.
  std::vector<std::string> fallback_paths;
  // In-cluster: $KUBERNETES_SERVICE_HOST/PORT and the service-account directory.
  std::string in_cluster_host;
  std::string in_cluster_port;
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// The process's environment: $KUBECONFIG, $HOME, the k3s fallbacks, in-cluster variables.
LoadOptions LoadOptionsFromEnvironment(const std::string& kubeconfig_flag,
                                       const std::string& context_flag);

// One kubeconfig entry, kept as parsed YAML text fields; paths already absolute.
struct NamedEntry {
  std::string name;
  std::map<std::string, std::string> fields;          // scalar fields
  std::optional<ExecConfig> exec;                     // users only
  std::string origin;                                 // file that defined it
};

// The merged view of several kubeconfig files (first file wins per key and for current-context).
struct MergedKubeconfig {
  std::string current_context;
  std::map<std::string, NamedEntry> clusters;
  std::map<std::string, NamedEntry> users;
  std::map<std::string, NamedEntry> contexts;
  std::vector<std::string> files;  // files actually read, in order
};

// Parses one kubeconfig document (`origin` names it in errors; relative paths are resolved
// against `directory`). InvalidArgument for bad YAML or a wrong shape.
absl::StatusOr<MergedKubeconfig> ParseKubeconfig(const std::string& text, const std::string& origin,
                                                 const std::string& directory);

// Merges `next` into `into` (entries already in `into` win).
void MergeKubeconfig(MergedKubeconfig& into, const MergedKubeconfig& next);

// Loads and resolves the configuration client-go would use. Errors:
//   NotFound         `kubeconfig "PATH": no such file` for a file named by --kubeconfig;
//                    "no Kubernetes configuration found (...)" when nothing is configured.
//   InvalidArgument  `kubeconfig "PATH": invalid YAML at line L, column C: ...`;
//                    `context "X" does not exist in kubeconfig (...)`, a context naming a
//                    missing cluster or user, a cluster without a server.
absl::StatusOr<RestConfig> LoadRestConfig(const LoadOptions& options);

// Resolves one context of an already merged configuration (empty = current-context).
absl::StatusOr<RestConfig> ResolveContext(const MergedKubeconfig& config,
                                          const std::string& context);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_KUBECONFIG_H_
