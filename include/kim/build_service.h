// BuildService: builds a Dockerfile context with BuildKit, exporting the image straight into the
// node's containerd so the kubelet can run it.
#ifndef KIM_BUILD_SERVICE_H_
#define KIM_BUILD_SERVICE_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

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
  std::string dockerfile;                   // path to the Dockerfile; empty = context/Dockerfile
  std::string dockerfile_content;           // the Dockerfile's text when read from stdin (-f -)
  std::vector<std::string> tags;            // normalised names to give the image
  std::map<std::string, std::string> build_args;
  std::map<std::string, std::string> labels;
  std::string target;                       // build stage; empty = the last
  std::vector<std::string> platforms;       // "os/arch[/variant]"; empty = the builder's
  bool no_cache = false;
  bool pull = false;                        // always resolve base images afresh
  bool push = false;                        // also push the tags to their registries
  std::vector<std::string> cache_from;      // image refs to import cache from
  std::vector<std::string> add_hosts;       // host:ip
  std::vector<BuildSecret> secrets;
  std::vector<BuildSsh> ssh;
  std::vector<BuildOutput> outputs;
};

// One line of build progress, already decoded from BuildKit's status stream.
struct BuildEvent {
  std::string vertex;   // digest of the step
  std::string name;     // e.g. "[2/3] RUN make"
  std::string log;      // output of the step, if this event carries any
  bool started = false;
  bool completed = false;
  bool cached = false;
  std::string error;    // the step's error, if it failed
};

// What a finished build produced.
struct BuildResult {
  std::string image_id;         // config digest of the built image, "sha256:..." (if any)
  std::string manifest_digest;  // digest of the image manifest (if any)
};

// A BuildKit daemon. Thread-compatible: one Build at a time per instance.
class BuildService {
 public:
  virtual ~BuildService() = default;

  // Runs one build, calling `on_event` for every progress event, and returns what it produced.
  // Returns InvalidArgument for bad options (missing Dockerfile, unreadable context), Cancelled
  // when cancelled, Unavailable when the daemon cannot be reached or goes away.
  virtual absl::StatusOr<BuildResult> Build(const BuildOptions& options,
                                            const std::function<void(const BuildEvent&)>& on_event) = 0;
};

}  // namespace kim

#endif  // KIM_BUILD_SERVICE_H_
