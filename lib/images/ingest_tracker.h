// Per-blob progress of one pull, taken from containerd's content ingests: the writers
// containerd has open while it downloads. containerd lists the ingests of every pull in the
// namespace at once; the tracker keeps those of THIS pull. Pure logic; internal.
//
// Which ingests are this pull's:
//  * exact mode (WatchBlobs): the ingests whose digest is one of the pull's blobs, known from its
//    manifest. Nothing else is reported.
//  * discovery mode (the default, until the registry client resolves manifests before a CRI
//    pull): every ingest that appears while the pull runs and was not there before it
//    (IgnoreExisting). LIMITATION: a pull of another image running at the same moment can show
//    its blobs here too; Finish then still reports the exact final state of this pull's blobs.
#ifndef KIM_LIB_IMAGES_INGEST_TRACKER_H_
#define KIM_LIB_IMAGES_INGEST_TRACKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kim/progress.h"
#include "lib/images/descriptor.h"

namespace kim {

// One ingest as containerd's content ListStatuses reports it.
struct IngestStatus {
  std::string ref;       // the writer's key, e.g. "layer-sha256:<hex>" (maybe with a prefix)
  std::string expected;  // expected digest; may be empty
  int64_t offset = 0;    // bytes written
  int64_t total = 0;     // expected size; 0 when unknown
};

// The digest an ingest is writing: `expected` when set, else the "sha256:<64 hex>" at the end
// of its ref; nullopt when neither says.
std::optional<std::string> IngestDigest(const IngestStatus& status);

// Turns successive ingest listings into BlobProgress events, one per change. Not thread-safe:
// one pull feeds it from one thread at a time.
class IngestTracker {
 public:
  explicit IngestTracker(ProgressCallback progress) : progress_(std::move(progress)) {}

  // Exact mode: only these blobs (digest, media type, size) are reported.
  void WatchBlobs(const std::vector<Descriptor>& blobs);

  // Discovery mode: ingests present before the pull started belong to someone else.
  void IgnoreExisting(const std::vector<IngestStatus>& before);

  // One listing, taken while the pull runs. An ingest reports Waiting (nothing written yet),
  // Transferring (0 < offset < total, or total unknown) or Verifying (offset == total: being
  // committed); a blob whose ingest has gone since the last listing was committed: Done.
  void Observe(const std::vector<IngestStatus>& statuses);

  // The pull has ended: reports each of `final_states` (the pull's blobs, Done or Exists) that
  // differs from what was last reported, and Done for any other blob still seen as in progress.
  void Finish(const std::vector<std::pair<Descriptor, TransferState>>& final_states);

  // The digests reported so far, for tests and logs.
  std::set<std::string> SeenDigests() const;

 private:
  struct Blob {
    std::string media_type;
    int64_t total = 0;
    BlobProgress last;      // what was last reported
    bool reported = false;  // whether `last` was sent
    bool active = false;    // seen in the latest listing
  };

  void Report(const std::string& digest, Blob& blob, TransferState state, int64_t offset,
              int64_t total);

  ProgressCallback progress_;
  bool exact_ = false;
  std::set<std::string> ignored_refs_;
  std::map<std::string, Blob> blobs_;  // by digest
};

}  // namespace kim

#endif  // KIM_LIB_IMAGES_INGEST_TRACKER_H_
