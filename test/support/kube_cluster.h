// Helpers for tests against the real kube-apiserver of scripts/peers, which runs without
// kubelet, scheduler or controller manager: clients, Node objects, and the builder pods and
// statuses that the DaemonSet controller and the kubelet would write.
#ifndef KIM_TEST_SUPPORT_KUBE_CLUSTER_H_
#define KIM_TEST_SUPPORT_KUBE_CLUSTER_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lib/kube/client.h"
#include "test/support/run_process.h"

namespace kim::test {

using kube::Json;

// A client for `kubeconfig` (a path); fails the test when it cannot be made.
std::shared_ptr<kube::Client> KubeClient(const std::string& kubeconfig);

// A client for the peers' admin kubeconfig (KIM_TEST_KUBECONFIG).
std::shared_ptr<kube::Client> KubeAdmin();

// Runs the built kim with `args` (and `input`, extra `env`), noting the command and its output
// for the test's report (from the test's own thread only: Catch2 is not thread-safe).
ProcessOutput Kim(const std::vector<std::string>& args, const std::string& input = "",
                  const std::map<std::string, std::string>& env = {});

// The names of the objects of `resource` in `ns` matching the label `selector`.
std::set<std::string> ObjectNames(kube::Client& client, const kube::Resource& resource,
                                  const std::string& ns, const std::string& selector = "");

// A name no other test run uses: PREFIX-PID-N-MILLIS.
std::string UniqueName(const std::string& prefix);

// Creates a Node object like a k3s kubelet registers: InternalIP `ip` (not loopback) and
// Hostname `name`; with `kubelet_port`, Hostname "localhost" and that kubelet port, so that the
// API server's log requests are refused at once when nothing listens there.
void CreateNode(kube::Client& client, const std::string& name, const std::string& ip,
                int kubelet_port = 0);

// Creates the pod the DaemonSet controller would create on `node` for the installed DaemonSet
// `daemonset` in `ns`: its template, owned by it, labelled with its template generation.
// Returns the stored pod.
Json CreateDaemonSetPod(kube::Client& client, const std::string& ns, const std::string& daemonset,
                        const std::string& node);

// CreateDaemonSetPod for the DaemonSet "builder".
Json CreateBuilderPod(kube::Client& client, const std::string& ns, const std::string& node);

// One container's status as the kubelet reports it.
struct ContainerReport {
  std::string name;
  bool ready = false;
  int restarts = 0;
  std::string state = R"({"running":{"startedAt":"2025-01-01T00:00:00Z"}})";  // JSON
  std::string last_state = "{}";                                               // JSON
};

// Writes the status the kubelet would (the status subresource) for `pod`: `phase`, the init
// containers' and containers' reports (images taken from the pod's spec) and the Ready
// condition (True when every container report is ready).
void SetPodStatus(kube::Client& client, const Json& pod, const std::string& phase,
                  const std::vector<ContainerReport>& init,
                  const std::vector<ContainerReport>& containers);

// A running builder pod with every container ready.
void SetPodReady(kube::Client& client, const Json& pod);

// What the namespace controller would do for a deleted namespace: drops its finalizers (spec
// and metadata), so that the API server removes it.
void ReleaseNamespace(kube::Client& client, const std::string& ns);

// The decoded `key` of Secret `name` in `ns`.
std::string SecretField(kube::Client& client, const std::string& ns, const std::string& name,
                        const std::string& key);

}  // namespace kim::test

#endif  // KIM_TEST_SUPPORT_KUBE_CLUSTER_H_
