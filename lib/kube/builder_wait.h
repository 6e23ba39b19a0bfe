// Waiting for kim's pods to run (the builder's, and the agents' on the other nodes): the pods,
// watched through the API, are the truth (not the DaemonSets' status, which only a controller
// writes). Internal to libkim.
#ifndef KIM_LIB_KUBE_BUILDER_WAIT_H_
#define KIM_LIB_KUBE_BUILDER_WAIT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"
#include "lib/kube/object_helpers.h"

namespace kim::kube {

// The label query that selects the builder's pods.
inline constexpr char kBuilderPodSelector[] =
    "app.kubernetes.io/name=kim,app.kubernetes.io/component=builder";
// The label query that selects the agent-only pods (every flavour).
inline constexpr char kAgentPodSelector[] =
    "app.kubernetes.io/name=kim,app.kubernetes.io/component=agent";
// The label query that selects every kim pod: builder and agent-only.
inline constexpr char kKimPodSelector[] =
    "app.kubernetes.io/name=kim,app.kubernetes.io/component in (builder,agent)";

// One node to wait for: a ready pod of `daemonset`'s current template there.
struct NodeWait {
  std::string node;
  std::string role;  // "builder" or "agent": what messages call its pod
  Json daemonset;    // the DaemonSet as stored (uid, template generation)
};

// What to wait for.
struct BuilderWait {
  std::string namespace_name;
  std::vector<NodeWait> nodes;     // each needs a ready pod of its DaemonSet
  absl::Time deadline;
  absl::Duration timeout;          // the user's --timeout, for messages
  Progress progress;               // a line whenever what we wait for changes
};

// Whether `pod` was made from `daemonset`'s current template: owned by it (ownerReferences
// uid) and labelled with its template generation (pod-template-generation, which the
// DaemonSet controller sets from the DaemonSet's deprecated.daemonset.template.generation).
bool IsCurrentBuilderPod(const Json& pod, const Json& daemonset);

// Where the pod of a DaemonSet stands on one node.
struct NodePodState {
  bool ready = false;   // a pod of the current template is ready there
  std::string waiting;  // else what it waits for ("no pod yet", "pod x: container ...")
};

// Judges the pods of `pod_list` (a PodList) on `node` for `daemonset`'s current template.
NodePodState JudgeNodePods(const Json& pod_list, const Json& daemonset, const std::string& node);

// How many of `nodes` have a ready pod of `daemonset`'s current template among `pod_list`'s
// items (a PodList).
int ReadyBuilderNodes(const Json& pod_list, const Json& daemonset,
                      const std::vector<std::string>& nodes);

// Lists and then watches kim's pods until, on every node of `wait.nodes`, a pod of its
// DaemonSet's current template is ready. Fails at once (FailedPrecondition) when such a pod is stuck
// (image pull, crash loop, bad configuration, failed init container), with the pod, container,
// reason, the kubelet's message, the container's last log lines and, for image pulls, the flag
// that chooses another image. DeadlineExceeded at wait.deadline, naming the pods' states. Rides
// out an API server that does not answer (a restart) for up to a minute, asking every second;
// Unavailable, saying how to go on, when it stays away longer.
absl::Status WaitForKimPods(Client& client, const BuilderWait& wait);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_BUILDER_WAIT_H_
