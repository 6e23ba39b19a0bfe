// The ImageService over one containerd socket: the images of the kubelet's namespace (k8s.io),
// listed and pulled through containerd's CRI ImageService (runtime.v1), tagged and removed
// through containerd's own images service, read through its content service. Used in-process by
// `kim --containerd-socket` and by kim-agent. Internal; programs get it through kim/connect.h.
#ifndef KIM_LIB_IMAGES_CONTAINERD_IMAGE_SERVICE_H_
#define KIM_LIB_IMAGES_CONTAINERD_IMAGE_SERVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "kim/image_service.h"
#include "lib/images/containerd_connection.h"

namespace kim {

// Connects to containerd at `options.socket` and returns the ImageService over it. Returns
// Unavailable `cannot reach containerd at unix:///x.sock: no such file (is containerd running?
// check --containerd-socket)` when the socket is missing or does not answer.
//
// Behaviour beyond ImageService's contract:
//  * List / Status: CRI ListImages; `created` is read from each image's config blob (cached by
//    image ID, which names immutable content). Filters follow `docker images REPOSITORY[:TAG]`
//    (see image_filter.h).
//  * Inspect: the record's manifest (the node's entry of an index), config and layers from the
//    content store; unpacked layer sizes from the overlayfs snapshots (containerd_inspect.h).
//  * Pull: CRI PullImage, credentials sent only to the registry they are for. CRI always pulls
//    the node's platform: another `platform` is InvalidArgument. Progress comes from content
//    ingests polled every 100 ms (see ingest_tracker.h for which ingests count as this pull's),
//    then one final event per config and layer: Done, or Exists when the blob was there before.
//  * Tag: images Create, or Update of the target when the name exists (atomic per name), in a
//    lease; never delete-then-create.
//  * Remove: Docker's rmi rules (containerd_remove_plan.h); records are deleted by name, each
//    checked just before to still point at the image being removed, the last with sync so the
//    garbage collector runs. CRI's RemoveImage is never used: it deletes every name of an image.
//  * Prune: containerd_prune.h (the dangling set, containers from the containers service,
//    deletions with preconditions).
//  * Tag and Remove return once CRI's own view (fed by containerd's events) shows the change,
//    or after 5 s.
//  * Push: the registry client, reading blobs through ContainerdBlobSource.
//  * Save / Load: containerd_archive.h.
absl::StatusOr<std::unique_ptr<ImageService>> NewContainerdImageService(
    const ContainerdOptions& options);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_IMAGE_SERVICE_H_
