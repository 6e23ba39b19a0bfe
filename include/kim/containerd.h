// The images of one containerd, in-process over its socket: what `kim --containerd-socket` and
// kim-agent use, for programs that run on the node themselves.
#ifndef KIM_CONTAINERD_H_
#define KIM_CONTAINERD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kim/image_service.h"

namespace kim {

// Where containerd is and how to use it.
struct ContainerdImageOptions {
  // containerd's gRPC socket: a path or "unix://" + path, e.g. "/run/containerd/containerd.sock"
  // ("/run/k3s/containerd/containerd.sock" on k3s). Required.
  std::string socket;
  // The containerd namespace; "k8s.io", the kubelet's, makes images runnable by Pods at once.
  std::string namespace_name = "k8s.io";
  // The deadline of each short call (list, tag, remove, small reads); pulls are not bounded.
  absl::Duration timeout = absl::Seconds(30);
  // false: connect now, so a wrong socket fails here ("cannot reach containerd at ..."). true:
  // connect on first use and retry after failures, for daemons that start before containerd.
  bool connect_on_first_use = false;
};

// Returns the ImageService of the containerd `options` names. Thread-safe. Unavailable with a
// hint when containerd cannot be reached (at once, or at each call with connect_on_first_use).
absl::StatusOr<std::unique_ptr<ImageService>> ConnectContainerdImageService(
    const ContainerdImageOptions& options);

}  // namespace kim

#endif  // KIM_CONTAINERD_H_
