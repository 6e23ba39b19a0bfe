// A Kubernetes REST client on cpprestsdk: JSON objects in and out, the verbs kim needs, watch,
// and errors that say which verb on which resource failed and why (for 403: the RBAC rule that
// is missing). Internal to libkim.
#ifndef KIM_LIB_KUBE_CLIENT_H_
#define KIM_LIB_KUBE_CLIENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <cpprest/json.h>

namespace boost::asio::ssl {
class context;
}

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/kubeconfig.h"

namespace kim::kube {

using Json = web::json::value;

// One kind of API object: where it lives and how RBAC names it.
struct Resource {
  const char* group;      // "" for the core group, else "apps", ...
  const char* version;    // "v1"
  const char* plural;     // "daemonsets"
  const char* kind;       // "DaemonSet"
  bool namespaced;
};

inline constexpr Resource kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline constexpr Resource kNodes{"", "v1", "nodes", "Node", false};
inline constexpr Resource kSecrets{"", "v1", "secrets", "Secret", true};
inline constexpr Resource kServices{"", "v1", "services", "Service", true};
inline constexpr Resource kEndpoints{"", "v1", "endpoints", "Endpoints", true};
inline constexpr Resource kPods{"", "v1", "pods", "Pod", true};
inline constexpr Resource kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
inline constexpr Resource kDaemonSets{"apps", "v1", "daemonsets", "DaemonSet", true};
inline constexpr Resource kEvents{"", "v1", "events", "Event", true};
inline constexpr Resource kRoles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
inline constexpr Resource kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles",
                                        "ClusterRole", false};
inline constexpr Resource kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings",
                                        "RoleBinding", true};
inline constexpr Resource kClusterRoleBindings{"rbac.authorization.k8s.io", "v1",
                                               "clusterrolebindings", "ClusterRoleBinding", false};

// "apiVersion" of a resource's objects: "v1" or "apps/v1".
std::string ApiVersion(const Resource& resource);

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
};

enum class Propagation { kBackground, kForeground, kOrphan };

// Options for Client::PodLogs.
struct LogOptions {
  std::string container;       // empty = the pod's only container
  int tail_lines = 20;         // the last this many lines; 0 = all
  bool previous = false;       // of the container's previous (ended) instance
  // The API server asks the node's kubelet, which may not answer: give up after this long
  // without a byte.
  absl::Duration timeout = absl::Seconds(10);
};

// What an upgraded request (a WebSocket: port-forward, exec) to the API server needs to carry
// the same identity and trust as the client's ordinary requests.
struct StreamingAccess {
  std::string server;         // https://host:port
  std::string authorization;  // Authorization header value ("Bearer ...", "Basic ..."), or ""
  bool verify_server = true;  // false with insecure-skip-tls-verify
  // Adds the CA, the client certificate and the server-name check (tls-server-name, else the
  // URL's host) to a TLS context.
  std::function<void(boost::asio::ssl::context&)> configure_tls;
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  Json object;
};

// Turns a failed response into a Status naming the verb and the resource. 403 becomes
// PermissionDenied `cannot list namespaces: forbidden for user "U" (needs RBAC verb "list" on
// "namespaces")`; 404 NotFound; 409 AlreadyExists (reason AlreadyExists) or Aborted (conflict);
// 401 Unauthenticated; 400/422 InvalidArgument; 410 FailedPrecondition ("expired"); other codes
// Unavailable / Internal. Exposed for unit tests.
absl::Status ApiError(int http_status, const std::string& body, const std::string& verb,
                      const Resource& resource, const std::string& namespace_name,
                      const std::string& name, const std::string& subresource = "");

// Small accessors for JSON objects (missing fields read as empty/zero).
std::string JsonString(const Json& object, std::initializer_list<const char*> path);
int64_t JsonInt(const Json& object, std::initializer_list<const char*> path);
const Json* JsonAt(const Json& object, std::initializer_list<const char*> path);

// A client of one API server as one user. Thread-safe.
class Client {
 public:
  // Builds a client for `config`. InvalidArgument for a bad server URL or certificate.
  static absl::StatusOr<std::unique_ptr<Client>> New(const RestConfig& config);
  virtual ~Client();

  const RestConfig& config() const;

  absl::StatusOr<Json> Get(const Resource& resource, const std::string& ns,
                           const std::string& name);
  // The List object (its "items" and "metadata.resourceVersion").
  absl::StatusOr<Json> List(const Resource& resource, const std::string& ns,
                            const ListOptions& options = {});
  absl::StatusOr<Json> Create(const Resource& resource, const std::string& ns, const Json& object);
  // PUT of a whole object (with its metadata.resourceVersion for optimistic concurrency);
  // `subresource` e.g. "status".
  absl::StatusOr<Json> Update(const Resource& resource, const std::string& ns, const Json& object,
                              const std::string& subresource = "");
  // JSON merge patch (RFC 7386).
  absl::StatusOr<Json> MergePatch(const Resource& resource, const std::string& ns,
                                  const std::string& name, const Json& patch);
  // Deletes; NotFound when it does not exist. `uid`, when set, is a precondition.
  absl::Status Delete(const Resource& resource, const std::string& ns, const std::string& name,
                      Propagation propagation = Propagation::kBackground,
                      const std::string& uid = "");

  // The log text of a container of pod `name` (GET .../pods/NAME/log): whatever the kubelet
  // has, up to options.tail_lines lines. Errors as for Get; Unavailable when the kubelet does
  // not answer within options.timeout.
  absl::StatusOr<std::string> PodLogs(const std::string& ns, const std::string& name,
                                      const LogOptions& options);

  // The credentials and TLS set-up for a streaming request, fresh for each call (exec plugins
  // and token files may have rotated).
  absl::StatusOr<StreamingAccess> Streaming();

  // Create-or-update with retry on conflict: reads the object (nullopt when missing), lets
  // `mutate` change it (or build it), then creates it, or updates it when mutate returned true
  // ("changed"); a 409 starts over (up to 5 times). Returns the stored object.
  using Mutator = std::function<absl::StatusOr<bool>(std::optional<Json>& object)>;
  absl::StatusOr<Json> CreateOrUpdate(const Resource& resource, const std::string& ns,
                                      const std::string& name, const Mutator& mutate);

  // Watches from `resource_version` until `on_event` returns true (then OK) or `deadline`
  // passes (DeadlineExceeded). Reconnects when the server ends a watch; 410 Gone is returned as
  // FailedPrecondition so that the caller can list again.
  absl::Status Watch(const Resource& resource, const std::string& ns, const ListOptions& options,
                     std::string resource_version, absl::Time deadline,
                     const std::function<bool(const WatchEvent&)>& on_event);

  // Waits until `done` holds for the named object (nullopt = it does not exist): a GET, then
  // watches from its resourceVersion (field selector on the name), relisting after 410.
  // Calls `progress` with every version seen. DeadlineExceeded on timeout.
  absl::StatusOr<std::optional<Json>> WaitFor(
      const Resource& resource, const std::string& ns, const std::string& name,
      absl::Time deadline, const std::function<bool(const std::optional<Json>&)>& done);

 struct State;  // opaque, defined in client.cc

 private:
  explicit Client(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_CLIENT_H_
