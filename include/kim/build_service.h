// BuildService: builds a Dockerfile context with BuildKit, exporting the image straight into the
// node's containerd so the kubelet can run it.
#ifndef KIM_BUILD_SERVICE_H_
#define KIM_BUILD_SERVICE_H_

#include <functional>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/version.h"
#include "absl/time/time.h"

namespace kim {

// A `--secret` the build may mount: from a file or from an environment variable.
struct BuildSecret {
  std::string id;        // the id a RUN --mount=type=secret,id=... asks for
  std::string file;      // read from this file, or
  std::string env;       // from this environment variable
};

// An `--ssh` agent or key set forwarded to the build.
struct BuildSsh {
  std::string id = "default";      // the id a RUN --mount=type=ssh,id=... asks for
  std::vector<std::string> paths;  // agent sockets or key files; empty = $SSH_AUTH_SOCK
};

// One `-o/--output` directive, e.g. type=local,dest=out or type=image,name=x,push=true.
struct BuildOutput {
  std::string type;                         // image, local, tar, oci, docker, registry
  std::map<std::string, std::string> attrs; // every key=value other than type
};

// Everything `kim build` can ask for. Defaults build ./Dockerfile in `context_dir` with no tag.
struct BuildOptions {
  std::string context_dir;                  // the build context (a local directory)
  std::string dockerfile;                   // path to the Dockerfile; empty = context/Dockerfile;
                                            // "-" = dockerfile_content (read from stdin)
  std::string dockerfile_content;           // the Dockerfile's text when read from stdin (-f -)
  // Instead of context_dir: a tar archive (plain, gzip, bzip2 or xz) handed to the daemon as it
  // reads it (`docker build - < context.tar`); `dockerfile` is then a path inside it (default
  // "Dockerfile"). Each call gives the next bytes in `chunk` and returns false at the end.
  std::function<absl::StatusOr<bool>(std::string* chunk)> context_archive;
  bool empty_context = false;               // no context at all (`docker build - < Dockerfile`)
  std::vector<std::string> tags;            // normalised names to give the image
  std::map<std::string, std::string> build_args;
  std::map<std::string, std::string> labels;
  std::string target;                       // build stage; empty = the last
  std::vector<std::string> platforms;       // "os/arch[/variant]"; empty = the builder's
  bool no_cache = false;
  bool pull = false;                        // always resolve base images afresh
  bool push = false;                        // also push the tags to their registries
  std::vector<std::string> cache_from;      // image refs to import cache from
  // Cache exports: "type=registry,ref=IMAGE[,mode=min|max]" or "type=inline".
  std::vector<std::string> cache_to;
  std::string network = "default";          // RUN networking: default, none, host
  // Extra named contexts (`--build-context NAME=VALUE`, for FROM/COPY --from=NAME): a local
  // directory, docker-image://REF, or a git/https URL.
  std::map<std::string, std::string> build_contexts;
  // SLSA provenance attestation: "" or "false" = none, "true" = mode=min, or "mode=min|max".
  std::string provenance;
  // Layer compression of image outputs: "uncompressed", "gzip", "zstd" or "estargz"; empty =
  // kim's default: uncompressed for an image that stays in the node's containerd (no time spent
  // compressing what never leaves it; `kim push` gzips on the way), gzip when pushed.
  std::string compression;
  int compression_level = -1;               // the compressor's level; -1 = its default
  std::vector<std::string> add_hosts;       // host:ip
  std::vector<BuildSecret> secrets;
  std::vector<BuildSsh> ssh;
  std::vector<BuildOutput> outputs;
  // Export an (untagged) image even without tags or outputs, so that the build has an image ID
  // (`-q`, `--iidfile`). Without tags, outputs or this, the build only fills the cache.
  bool export_untagged = false;
};

// One piece of build progress, already decoded from BuildKit's status stream. A step (vertex)
// is reported again each time its state changes; the other kinds refer to a step by `vertex`.
struct BuildEvent {
  enum class Kind {
    kVertex,    // a step: name, inputs, cached/started/completed/error
    kProgress,  // a sub-task of a step with a counter, e.g. "transferring context: 2.1MB"
    kLog,       // output of a step (RUN's stdout/stderr)
    kWarning,   // a build warning (e.g. a Dockerfile lint)
  };
  Kind kind = Kind::kVertex;
  std::string vertex;                // digest of the step
  std::string name;                  // kVertex: "[2/3] RUN make"; kProgress: its name/id;
                                     // kWarning: the short message
  std::vector<std::string> inputs;   // kVertex: digests of the steps it depends on
  bool cached = false;               // kVertex: the result came from the cache
  std::optional<absl::Time> started;    // kVertex, kProgress: when it started, if it has
  std::optional<absl::Time> completed;  // kVertex, kProgress: when it ended, if it has
  std::string error;                 // kVertex: the step's error, if it failed
  std::string id;                    // kProgress: the sub-task's id (stable across updates)
  int64_t current = 0;               // kProgress: units done (bytes, layers...)
  int64_t total = 0;                 // kProgress: units in all; 0 = unknown
  int stream = 0;                    // kLog: 1 stdout, 2 stderr
  std::string log;                   // kLog: the bytes written; kWarning: details, one per line
  std::string url;                   // kWarning: where the rule is documented
  absl::Time timestamp;              // when the daemon recorded the event
};

// What a finished build produced.
struct BuildResult {
  std::string image_id;         // config digest of the built image, "sha256:..." (if any)
  std::string manifest_digest;  // digest of the image manifest (if any)
  std::map<std::string, std::string> exporter_response;  // everything the exporter answered
  // The exported image's OCI descriptor (JSON), decoded from exporter_response's base64
  // "containerimage.descriptor"; empty when the daemon sent none.
  std::string image_descriptor;
};

// One record of BuildKit's build cache, as `docker buildx du` / `docker builder prune` show it.
struct BuildCacheRecord {
  std::string id;
  std::vector<std::string> parents;  // ids of the records it builds on
  std::string type;                  // "regular", "internal", "frontend", "source.local", ...
  std::string description;           // e.g. "mount / from exec /bin/sh -c make"
  bool in_use = false;               // held by a running build
  bool shared = false;               // shares data with another record (not reclaimable alone)
  bool is_mutable = false;           // a mutable snapshot (cache mounts, local sources)
  int64_t size = 0;                  // bytes
  absl::Time created = absl::InfinitePast();
  absl::Time last_used = absl::InfinitePast();  // InfinitePast when never used again
  int64_t usage_count = 0;
};

// Options for BuildService::Prune (`docker builder prune`).
struct BuildPruneOptions {
  bool all = false;                          // also shared and internal records, not just dangling
  absl::Duration keep_duration;              // keep records used within this long (--filter until=)
  int64_t keep_storage = 0;                  // keep this many bytes of cache (--keep-storage)
  std::vector<std::string> filters;          // BuildKit's own record filters (e.g. "id==x")
};

// A BuildKit daemon. Thread-compatible: one Build at a time per instance; Cancel may be called
// from any thread (e.g. a signal handler thread) while Build runs.
class BuildService {
 public:
  virtual ~BuildService() = default;

  // Runs one build, calling `on_event` (from one thread at a time, not necessarily the caller's)
  // for every progress event, and returns what it produced.
  // Returns InvalidArgument for bad options (missing Dockerfile, unreadable context), Cancelled
  // when cancelled, Unavailable when the daemon cannot be reached or goes away, and Unknown
  // with the daemon's message ("failed to solve: ...") when the build itself fails.
  virtual absl::StatusOr<BuildResult> Build(const BuildOptions& options,
                                            const std::function<void(const BuildEvent&)>& on_event) = 0;

  // Asks a running Build to stop: the daemon cancels the build and Build returns Cancelled.
  // Does nothing when no build is running.
  virtual void Cancel() = 0;

  // Removes build cache as `options` say (BuildKit's Control.Prune) and returns the records
  // removed. Unavailable when the daemon cannot be reached.
  virtual absl::StatusOr<std::vector<BuildCacheRecord>> Prune(const BuildPruneOptions& options) = 0;

  // Returns every record of the build cache (BuildKit's Control.DiskUsage). Unavailable when
  // the daemon cannot be reached.
  virtual absl::StatusOr<std::vector<BuildCacheRecord>> DiskUsage() = 0;

  // Asks the daemon for its version (BuildKit's Control.Info): a cheap health check too.
  // Unavailable (with the connection's hint) when it cannot be reached.
  virtual absl::StatusOr<DaemonVersion> Version() = 0;
};

// Whether `header`, the first bytes (up to 1 KiB) of a stream, starts a tar archive, plain or
// bzip2/gzip/xz-compressed: how `kim build -` tells a context archive from a Dockerfile on stdin.
bool IsContextArchive(const std::string& header);

}  // namespace kim

#endif  // KIM_BUILD_SERVICE_H_
