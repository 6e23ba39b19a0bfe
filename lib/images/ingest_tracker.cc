// Ingest listings to progress events.
#include "lib/images/ingest_tracker.h"

#include "kim/digest.h"

namespace kim {

std::optional<std::string> IngestDigest(const IngestStatus& status) {
  if (!status.expected.empty()) return status.expected;
  constexpr std::string_view kSha256 = "sha256:";
  const size_t at = status.ref.rfind(kSha256);
  if (at == std::string::npos) return std::nullopt;
  const std::string digest = status.ref.substr(at);
  if (!Digest::Validate(digest).ok()) return std::nullopt;
  return digest;
}

void IngestTracker::WatchBlobs(const std::vector<Descriptor>& blobs) {
  exact_ = true;
  for (const Descriptor& descriptor : blobs) {
    Blob& blob = blobs_[descriptor.digest];
    blob.media_type = descriptor.media_type;
    blob.total = descriptor.size;
  }
}

void IngestTracker::IgnoreExisting(const std::vector<IngestStatus>& before) {
  for (const IngestStatus& status : before) ignored_refs_.insert(status.ref);
}

void IngestTracker::Report(const std::string& digest, Blob& blob, TransferState state,
                           int64_t offset, int64_t total) {
  BlobProgress event{digest, blob.media_type, state, offset, total};
  if (blob.reported && blob.last.state == event.state && blob.last.offset == event.offset &&
      blob.last.total == event.total) {
    return;
  }
  blob.last = event;
  blob.reported = true;
  if (progress_) progress_(event);
}

void IngestTracker::Observe(const std::vector<IngestStatus>& statuses) {
  std::set<std::string> present;
  for (const IngestStatus& status : statuses) {
    if (ignored_refs_.contains(status.ref)) continue;
    const auto digest = IngestDigest(status);
    if (!digest) continue;
    auto it = blobs_.find(*digest);
    if (it == blobs_.end()) {
      if (exact_) continue;
      it = blobs_.emplace(*digest, Blob{}).first;
    }
    Blob& blob = it->second;
    const int64_t total = status.total > 0 ? status.total : blob.total;
    if (total > 0) blob.total = total;
    TransferState state = TransferState::kTransferring;
    if (status.offset == 0) {
      state = TransferState::kWaiting;
    } else if (total > 0 && status.offset >= total) {
      state = TransferState::kVerifying;
    }
    blob.active = true;
    present.insert(*digest);
    Report(*digest, blob, state, status.offset, total);
  }
  // Gone since the last listing: committed.
  for (auto& [digest, blob] : blobs_) {
    if (!blob.active || present.contains(digest)) continue;
    blob.active = false;
    Report(digest, blob, TransferState::kDone, blob.total, blob.total);
  }
}

void IngestTracker::Finish(
    const std::vector<std::pair<Descriptor, TransferState>>& final_states) {
  std::set<std::string> finished;
  for (const auto& [descriptor, state] : final_states) {
    Blob& blob = blobs_[descriptor.digest];
    if (blob.media_type.empty()) blob.media_type = descriptor.media_type;
    if (descriptor.size > 0) blob.total = descriptor.size;
    blob.active = false;
    finished.insert(descriptor.digest);
    // A blob this pull downloaded stays Done even if it "existed" by the time we looked.
    const TransferState final_state =
        blob.reported && state == TransferState::kExists ? TransferState::kDone : state;
    Report(descriptor.digest, blob, final_state, blob.total, blob.total);
  }
  for (auto& [digest, blob] : blobs_) {
    if (finished.contains(digest) || !blob.reported) continue;
    blob.active = false;
    if (blob.last.state == TransferState::kDone || blob.last.state == TransferState::kExists) {
      continue;
    }
    Report(digest, blob, TransferState::kDone, blob.total, blob.total);
  }
}

std::set<std::string> IngestTracker::SeenDigests() const {
  std::set<std::string> seen;
  for (const auto& [digest, blob] : blobs_) {
    if (blob.reported) seen.insert(digest);
  }
  return seen;
}

}  // namespace kim
