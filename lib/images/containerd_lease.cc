// Creating and ending containerd leases.
#include "lib/images/containerd_lease.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "containerd/services/leases/v1/leases.grpc.pb.h"

namespace kim {

namespace leases = ::containerd::services::leases::v1;

absl::StatusOr<ContainerdLease> ContainerdLease::Create(
    std::shared_ptr<const ContainerdConnection> connection, absl::Duration expire,
    const std::map<std::string, std::string>& labels) {
  auto stub = leases::Leases::NewStub(connection->channel());
  leases::CreateRequest request;
  // An ID that says who made it, for anyone reading `ctr leases ls`.
  request.set_id(absl::StrCat("kim-", absl::ToUnixNanos(absl::Now()), "-",
                              reinterpret_cast<uintptr_t>(&request) & 0xffffff));
  for (const auto& [key, value] : labels) (*request.mutable_labels())[key] = value;
  (*request.mutable_labels())["containerd.io/gc.expire"] =
      absl::FormatTime(absl::RFC3339_sec, absl::Now() + expire, absl::UTCTimeZone());
  leases::CreateResponse response;
  const grpc::Status status = stub->Create(connection->NewContext().get(), request, &response);
  if (!status.ok()) return FromGrpc(status, "cannot create a containerd lease");
  return ContainerdLease(std::move(connection), response.lease().id());
}

ContainerdLease::ContainerdLease(ContainerdLease&& other) noexcept
    : connection_(std::move(other.connection_)), id_(std::move(other.id_)),
      collect_(other.collect_) {
  other.id_.clear();
}

ContainerdLease& ContainerdLease::operator=(ContainerdLease&& other) noexcept {
  if (this != &other) {
    Release();
    connection_ = std::move(other.connection_);
    id_ = std::move(other.id_);
    collect_ = other.collect_;
    other.id_.clear();
  }
  return *this;
}

ContainerdLease::~ContainerdLease() { Release(); }

absl::Status ContainerdLease::AddContent(const std::string& digest) {
  auto stub = leases::Leases::NewStub(connection_->channel());
  leases::AddResourceRequest request;
  request.set_id(id_);
  request.mutable_resource()->set_id(digest);
  request.mutable_resource()->set_type("content");
  google::protobuf::Empty response;
  const grpc::Status status = stub->AddResource(connection_->NewContext().get(), request, &response);
  return FromGrpc(status, absl::StrCat("cannot hold ", digest, " under a containerd lease"));
}

void ContainerdLease::Release() {
  if (id_.empty() || connection_ == nullptr) return;
  auto stub = leases::Leases::NewStub(connection_->channel());
  leases::DeleteRequest request;
  request.set_id(id_);
  request.set_sync(collect_);
  google::protobuf::Empty response;
  // Best effort: a lease left behind expires by its label.
  (void)stub->Delete(connection_->NewContext().get(), request, &response);
  id_.clear();
}

absl::StatusOr<int> DeleteLeasesLabelled(
    const ContainerdConnection& connection, const std::string& key,
    const std::function<bool(const std::map<std::string, std::string>& labels)>& keep) {
  auto stub = leases::Leases::NewStub(connection.channel());
  leases::ListRequest request;
  request.add_filters(absl::StrCat("labels.\"", key, "\""));
  leases::ListResponse response;
  grpc::Status status = stub->List(connection.NewContext().get(), request, &response);
  if (!status.ok()) return FromGrpc(status, "cannot list containerd's leases");
  int deleted = 0;
  for (const leases::Lease& lease : response.leases()) {
    if (!lease.labels().contains(key)) continue;  // filters are a hint; the label decides
    if (keep && keep({lease.labels().begin(), lease.labels().end()})) continue;
    leases::DeleteRequest remove;
    remove.set_id(lease.id());
    remove.set_sync(true);
    google::protobuf::Empty empty;
    status = stub->Delete(connection.NewLongContext().get(), remove, &empty);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) continue;
    if (!status.ok()) return FromGrpc(status, absl::StrCat("cannot delete lease ", lease.id()));
    ++deleted;
  }
  return deleted;
}

}  // namespace kim
