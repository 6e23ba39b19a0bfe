// What a pod's status says about it: ready, still on its way (and why), or stuck in a way that
// will not heal by waiting (an image that cannot be pulled, a crash loop, a bad container
// configuration). Pure functions over the pod's JSON, as the kubelet writes it. Internal to libkim.
#ifndef KIM_LIB_KUBE_POD_STATE_H_
#define KIM_LIB_KUBE_POD_STATE_H_

#include <string>

#include "lib/kube/client.h"

namespace kim::kube {

// The verdict on one pod.
struct PodState {
  enum class Kind {
    kReady,    // every container ready and condition Ready=True
    kWaiting,  // not ready yet, nothing known to be wrong
    kFailed,   // stuck: waiting longer will not help
  };
  Kind kind = Kind::kWaiting;
  // Kubernetes' word for the state: "ContainerCreating", "PodInitializing", "Unschedulable",
  // "ImagePullBackOff", "CrashLoopBackOff", "Error"...; "Running" when running but not ready.
  std::string reason;
  std::string container;        // the container the reason is about; empty = the whole pod
  bool init_container = false;  // `container` is an init container
  std::string image;            // that container's image, as the pod spec names it
  std::string message;          // the kubelet's message (may be empty)
  int restart_count = 0;        // of `container`
  // True when `container` ran, ended and waits to start again: its logs are the previous
  // instance's (`previous=true`).
  bool previous_logs = false;
  // True for the reasons that mean the image could not be pulled.
  bool image_pull = false;
};

// Classifies `pod` (a v1 Pod object). Reads status.phase, status.conditions,
// status.initContainerStatuses and status.containerStatuses (state.waiting.reason,
// state.terminated, lastState.terminated, restartCount, ready) and spec for images.
PodState ClassifyPod(const Json& pod);

// A short description of a state for progress lines and errors:
// `container "agent": ImagePullBackOff: Back-off pulling image "x"` or `ContainerCreating`.
std::string DescribePodState(const PodState& state);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_POD_STATE_H_
