// The build cache calls of BuildKit's control API.
#include "lib/build/buildkit_cache.h"

#include <chrono>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"

namespace kim::build {
namespace {

namespace v1 = ::moby::buildkit::v1;

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp, bool present) {
  if (!present) return absl::InfinitePast();
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

absl::Status FromStatus(const grpc::Status& status, const CacheCallTarget& target) {
  if (status.ok()) return absl::OkStatus();
  const std::string why = absl::StrCat("buildkitd at ", target.address, ": ", status.error_message());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach ", why,
        target.unreachable_hint.empty() ? "" : absl::StrCat(" (", target.unreachable_hint, ")")));
  }
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return absl::InvalidArgumentError(why);
  }
  return absl::UnknownError(why);
}

}  // namespace

BuildCacheRecord FromUsageRecord(const v1::UsageRecord& record) {
  BuildCacheRecord out;
  out.id = record.id();
  out.parents.assign(record.parents().begin(), record.parents().end());
  out.type = record.recordtype();
  out.description = record.description();
  out.in_use = record.inuse();
  out.shared = record.shared();
  out.is_mutable = record.mutable_();
  out.size = record.size();
  out.created = FromTimestamp(record.createdat(), record.has_createdat());
  out.last_used = FromTimestamp(record.lastusedat(), record.has_lastusedat());
  out.usage_count = record.usagecount();
  return out;
}

absl::StatusOr<std::vector<BuildCacheRecord>> CacheDiskUsage(v1::Control::Stub& control,
                                                             const CacheCallTarget& target) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::DiskUsageResponse response;
  const grpc::Status status = control.DiskUsage(&context, {}, &response);
  if (!status.ok()) return FromStatus(status, target);
  std::vector<BuildCacheRecord> records;
  for (const v1::UsageRecord& record : response.record()) {
    records.push_back(FromUsageRecord(record));
  }
  return records;
}

absl::StatusOr<std::vector<BuildCacheRecord>> CachePrune(v1::Control::Stub& control,
                                                         const CacheCallTarget& target,
                                                         const BuildPruneOptions& options) {
  v1::PruneRequest request;
  for (const std::string& filter : options.filters) request.add_filter(filter);
  request.set_all(options.all);
  request.set_keepduration(absl::ToInt64Nanoseconds(options.keep_duration));
  request.set_reservedspace(options.keep_storage);
  grpc::ClientContext context;  // no deadline: a big cache takes a while to delete
  auto reader = control.Prune(&context, request);
  std::vector<BuildCacheRecord> removed;
  v1::UsageRecord record;
  while (reader->Read(&record)) removed.push_back(FromUsageRecord(record));
  if (absl::Status status = FromStatus(reader->Finish(), target); !status.ok()) return status;
  return removed;
}

}  // namespace kim::build
