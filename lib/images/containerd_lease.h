// A containerd lease held for the length of one operation: what is created under it (content,
// snapshots, and records created in its calls) cannot be garbage-collected half-way. Internal.
#ifndef KIM_LIB_IMAGES_CONTAINERD_LEASE_H_
#define KIM_LIB_IMAGES_CONTAINERD_LEASE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/images/containerd_connection.h"

namespace kim {

// Owns one lease; deletes it when destroyed (best effort; the lease also expires by itself
// after `expire`, so a crashed process leaks nothing for long). Move-only; not thread-safe.
class ContainerdLease {
 public:
  // Creates a lease with the label "containerd.io/gc.expire" = now + `expire`, and `labels`.
  static absl::StatusOr<ContainerdLease> Create(
      std::shared_ptr<const ContainerdConnection> connection,
      absl::Duration expire = absl::Hours(1),
      const std::map<std::string, std::string>& labels = {});

  ContainerdLease(ContainerdLease&& other) noexcept;
  ContainerdLease& operator=(ContainerdLease&& other) noexcept;
  ContainerdLease(const ContainerdLease&) = delete;
  ContainerdLease& operator=(const ContainerdLease&) = delete;
  ~ContainerdLease();

  // Makes the release wait for containerd's garbage collector, so that whatever only this lease
  // held is gone when the lease is (what a failed import relies on).
  void CollectOnRelease() { collect_ = true; }

  // Puts the content blob `digest` under the lease: it and what its gc.ref labels reach (a
  // manifest's config and layers) stay while the lease does, even if the image is removed.
  absl::Status AddContent(const std::string& digest);

  // The lease's ID, to pass to ContainerdConnection::NewContext.
  const std::string& id() const { return id_; }

 private:
  ContainerdLease(std::shared_ptr<const ContainerdConnection> connection, std::string id)
      : connection_(std::move(connection)), id_(std::move(id)) {}
  void Release();

  std::shared_ptr<const ContainerdConnection> connection_;
  std::string id_;
  bool collect_ = false;
};

// Deletes every lease that carries the label `key` (except those `keep` says to keep, when
// given), each with synchronous garbage collection (so what only it held is gone on return);
// returns how many it deleted.
absl::StatusOr<int> DeleteLeasesLabelled(
    const ContainerdConnection& connection, const std::string& key,
    const std::function<bool(const std::map<std::string, std::string>& labels)>& keep = nullptr);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_CONTAINERD_LEASE_H_
