// `kim image build` / `kim build`: checks the context and every flag, then hands the build to
// the BuildService.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <ostream>
#include <sstream>

#include <cpprest/json.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "kim/build_context.h"
#include "apps/kim/commands/build_flags.h"
#include "apps/kim/cli/interrupt_watcher.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/commands/nodes.h"
#include "apps/kim/output/build_progress.h"
#include "apps/kim/output/progress_printer.h"

namespace kim::cli {
namespace {

// What the exporters answered, as buildx writes it for --metadata-file: a JSON object of
// strings, the image descriptor (decoded by the BuildService) as an object.
std::string BuildMetadataJson(const BuildResult& result) {
  web::json::value object = web::json::value::object(true);
  for (const auto& [key, value] : result.exporter_response) {
    if (key == "containerimage.descriptor" && !result.image_descriptor.empty()) {
      try {
        object[key] = web::json::value::parse(result.image_descriptor);
        continue;
      } catch (const std::exception&) {
      }
    }
    object[key] = web::json::value::string(value);
  }
  return object.serialize() + "\n";
}

absl::StatusOr<BuildOptions> FinishOptions(const FlagValues& flags, BuildOptions options);

// Turns the invocation's flags into BuildOptions, reporting the first bad value. The context and
// Dockerfile (a folder, `-f -`, `kim build -`) are lib/build's to resolve.
absl::StatusOr<BuildOptions> BuildOptionsFrom(const Invocation& invocation) {
  BuildOptions options;
  const BuildInput input{.context = invocation.args.front(),
                         .dockerfile = invocation.flags.String("file")};
  if (absl::Status status = ResolveBuildInput(input, &options); !status.ok()) return status;
  return FinishOptions(invocation.flags, std::move(options));
}

// The flags other than the context and the Dockerfile.
absl::StatusOr<BuildOptions> FinishOptions(const FlagValues& flags, BuildOptions options) {
  auto tags = ParseTags(flags.Strings("tag"));
  if (!tags.ok()) return tags.status();
  options.tags = *std::move(tags);
  auto args = ParseBuildArgs(flags.Strings("build-arg"), ProcessEnv());
  if (!args.ok()) return args.status();
  options.build_args = *std::move(args);
  auto labels = ParseLabels(flags.Strings("label"));
  if (!labels.ok()) return labels.status();
  options.labels = *std::move(labels);
  auto platforms = ParsePlatforms(flags.Strings("platform"));
  if (!platforms.ok()) return platforms.status();
  options.platforms = *std::move(platforms);
  for (const std::string& value : flags.Strings("secret")) {
    auto secret = ParseSecret(value);
    if (!secret.ok()) return secret.status();
    options.secrets.push_back(*std::move(secret));
  }
  for (const std::string& value : flags.Strings("ssh")) {
    auto ssh = ParseSsh(value);
    if (!ssh.ok()) return ssh.status();
    options.ssh.push_back(*std::move(ssh));
  }
  for (const std::string& value : flags.Strings("output")) {
    auto output = ParseOutput(value);
    if (!output.ok()) return output.status();
    options.outputs.push_back(*std::move(output));
  }
  for (const std::string& value : flags.Strings("add-host")) {
    auto host = ParseAddHost(value);
    if (!host.ok()) return host.status();
    options.add_hosts.push_back(*std::move(host));
  }
  if (absl::Status status = ValidateProgressMode(flags.String("progress")); !status.ok()) {
    return status;
  }
  if (flags.Bool("push") && options.tags.empty()) {
    return absl::InvalidArgumentError("--push needs at least one --tag to push to");
  }
  options.target = flags.String("target");
  options.no_cache = flags.Bool("no-cache");
  options.pull = flags.Bool("pull");
  options.push = flags.Bool("push");
  options.cache_from = flags.Strings("cache-from");
  options.cache_to = flags.Strings("cache-to");
  options.provenance = flags.String("provenance");
  options.compression = flags.String("compression");
  if (const std::string level = flags.String("compression-level"); !level.empty()) {
    if (!absl::SimpleAtoi(level, &options.compression_level) || options.compression_level < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid --compression-level ", level, ": use a level from 0 up"));
    }
  }
  for (const std::string& value : flags.Strings("build-context")) {
    const size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid --build-context \"", value, "\": format is NAME=VALUE"));
    }
    options.build_contexts[value.substr(0, eq)] = value.substr(eq + 1);
  }
  options.network = flags.String("network");  // PlanSolve checks the value
  return options;
}

// Where a build runs and where its image goes afterwards.
struct BuildPlacement {
  ConnectOptions connect;      // with `node` set to the builder node (empty: no cluster)
  DistributeTargets targets;   // --distribute
  bool pin = true;             // --pin
};

// Checks --distribute and picks the builder node: --node, else the ready builder node that the
// context's absolute path maps to, so that BuildKit's cache for this context is found again.
absl::StatusOr<BuildPlacement> PlaceBuild(const Invocation& invocation) {
  BuildPlacement placement;
  auto targets = ParseDistributeTargets(invocation.flags.String("distribute"));
  if (!targets.ok()) return targets.status();
  placement.targets = *std::move(targets);
  placement.pin = invocation.flags.Bool("pin");
  auto connect = ConnectOptionsFrom(invocation.flags);
  if (!connect.ok()) return connect.status();
  placement.connect = *std::move(connect);
  const std::string& context = invocation.args.front();
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(context, error);
  placement.connect.builder_key =
      context == "-" || error ? context : absolute.lexically_normal().string();
  auto node = ChooseBuilderNode(placement.connect);
  if (!node.ok()) return node.status();
  placement.connect.node = *node;
  return placement;
}

// The names the build gave an image in the node's containerd: the tags, when the default image
// output or an image output received them.
std::vector<std::string> StoredImages(const BuildOptions& options) {
  const bool image_output =
      options.outputs.empty() ||
      std::any_of(options.outputs.begin(), options.outputs.end(),
                  [](const BuildOutput& o) { return o.type == "image" || o.type == "registry"; });
  return image_output ? options.tags : std::vector<std::string>{};
}

// After a build on a cluster: pins the image on the builder node and copies it to the other
// nodes (--distribute, --pin); progress on stderr unless -q.
absl::Status SpreadImage(Invocation& invocation, const BuildPlacement& placement,
                         const BuildOptions& options) {
  const std::vector<std::string> images = StoredImages(options);
  if (placement.connect.node.empty() || images.empty()) return absl::OkStatus();
  if (!placement.pin && placement.targets.none()) return absl::OkStatus();
  auto source = kim::ConnectImageService(placement.connect);
  if (!source.ok()) return source.status();
  std::vector<NodeAgent> nodes;
  if (!placement.targets.none()) {
    ConnectOptions every_node = placement.connect;
    every_node.node.clear();
    auto listed = ListNodeAgents(every_node);
    if (!listed.ok()) return listed.status();
    nodes = *std::move(listed);
  }
  std::ostringstream discarded;
  const bool quiet = invocation.flags.Bool("quiet");
  return DistributeImages(**source, nodes,
                          {.images = images,
                           .source = placement.connect.node,
                           .targets = placement.targets,
                           .pin = placement.pin,
                           .tty = !quiet && IsTerminal(STDERR_FILENO)},
                          quiet ? discarded : *invocation.err);
}

int RunBuild(Invocation& invocation) {
  absl::StatusOr<BuildOptions> options = BuildOptionsFrom(invocation);
  if (!options.ok()) return ReportError(invocation, options.status());
  if (invocation.flags.Bool("squash")) {
    *invocation.err << "WARNING: --squash is not supported by the BuildKit backend; ignored\n";
  }
  const bool quiet = invocation.flags.Bool("quiet");
  const std::string iidfile = invocation.flags.String("iidfile");
  const std::string metadata_file = invocation.flags.String("metadata-file");
  options->export_untagged = quiet || !iidfile.empty();

  std::mutex service_mu;
  BuildService* running = nullptr;
  InterruptWatcher watcher([&] {
    std::lock_guard lock(service_mu);
    if (running != nullptr) running->Cancel();
  });
  auto placement = PlaceBuild(invocation);
  if (!placement.ok()) return ReportError(invocation, placement.status());
  auto service = kim::ConnectBuildService(placement->connect);
  if (!service.ok()) return ReportError(invocation, service.status());
  {
    std::lock_guard lock(service_mu);
    running = service->get();
  }
  const BuildProgress::Mode mode =
      quiet ? BuildProgress::Mode::kQuiet
            : BuildProgress::ModeFor(invocation.flags.String("progress"), IsTerminal(STDERR_FILENO));
  absl::StatusOr<BuildResult> result;
  {
    BuildProgress progress(*invocation.err, mode);
    if (!watcher.interrupted()) {
      result = (*service)->Build(*options, [&](const BuildEvent& event) { progress.Update(event); });
    } else {
      result = absl::CancelledError("build cancelled");
    }
    progress.Finish();
  }
  {
    std::lock_guard lock(service_mu);
    running = nullptr;
  }
  if (watcher.interrupted() || absl::IsCancelled(result.status())) {
    *invocation.err << "ERROR: build cancelled\n";
    return InterruptWatcher::kExitInterrupted;
  }
  if (!result.ok()) return ReportError(invocation, result.status());
  if (quiet && !result->image_id.empty()) *invocation.out << result->image_id << "\n";
  if (!iidfile.empty()) {
    std::ofstream file(iidfile);
    file << result->image_id;
    if (!file) {
      return ReportError(invocation, absl::InvalidArgumentError(absl::StrCat(
                                         "cannot write --iidfile \"", iidfile, "\"")));
    }
  }
  if (!metadata_file.empty()) {
    std::ofstream file(metadata_file);
    file << BuildMetadataJson(*result);
    if (!file) {
      return ReportError(invocation, absl::InvalidArgumentError(absl::StrCat(
                                         "cannot write --metadata-file \"", metadata_file, "\"")));
    }
  }
  if (absl::Status status = SpreadImage(invocation, *placement, *options); !status.ok()) {
    return ReportError(invocation, status);
  }
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> NewBuildCommand() {
  auto build = std::make_unique<Command>();
  build->name = "build";
  build->use = "[OPTIONS] PATH | -";
  build->short_help = "Build an image";
  build->args = {.min = 1, .max = 1};
  build->flags = {
      {.name = "add-host", .type = FlagType::kStringArray,
       .usage = "Add a custom host-to-IP mapping (host:ip)"},
      {.name = "build-arg", .type = FlagType::kStringArray, .usage = "Set build-time variables"},
      {.name = "build-context", .type = FlagType::kStringArray,
       .usage = "Additional build contexts (e.g., name=path, name=docker-image://image)"},
      {.name = "cache-from", .type = FlagType::kStringArray,
       .usage = "Images to consider as cache sources"},
      {.name = "cache-to", .type = FlagType::kStringArray,
       .usage = "Cache export destinations (type=registry,ref=IMAGE[,mode=min|max] or type=inline)"},
      {.name = "compression", .type = FlagType::kString,
       .usage = "Layer compression of the image (uncompressed, gzip, zstd, estargz). Default: "
                "uncompressed for an image that stays on the node (kim push gzips it on the "
                "way), gzip with --push",
       .choices = {"uncompressed", "gzip", "zstd", "estargz"}},
      {.name = "compression-level", .type = FlagType::kInt,
       .usage = "Compression level (gzip 0-9, zstd 0-22); default: the compressor's"},
      {.name = "distribute", .type = FlagType::kString,
       .usage = "Copy the image to other nodes after the build: all, none, or node names "
                "separated by commas",
       .default_value = "all"},
      {.name = "file", .shorthand = 'f', .type = FlagType::kString,
       .usage = "Name of the Dockerfile (Default is 'PATH/Dockerfile'; '-' reads stdin)"},
      {.name = "iidfile", .type = FlagType::kString, .usage = "Write the image ID to the file"},
      {.name = "metadata-file", .type = FlagType::kString,
       .usage = "Write build result metadata to the file (JSON)"},
      {.name = "label", .type = FlagType::kStringArray, .usage = "Set metadata for an image"},
      {.name = "network", .type = FlagType::kString,
       .usage = "Networking mode for the RUN instructions during build (default, none, host)",
       .default_value = "default"},
      {.name = "no-cache", .usage = "Do not use cache when building the image"},
      {.name = "node", .type = FlagType::kString,
       .usage = "Build on this builder node (default: the same ready builder node for the same "
                "context, so that its cache is reused)"},
      {.name = "output", .shorthand = 'o', .type = FlagType::kStringArray,
       .usage = "Output destination, repeatable (format: type=local|tar|oci|docker|image|registry,dest=path)"},
      {.name = "pin", .usage = "Pin the image on the nodes against the kubelet's image garbage "
                               "collection (containerd 1.7 and later) (default true)",
       .default_value = "true"},
      {.name = "platform", .type = FlagType::kStringArray,
       .usage = "Set target platform(s) for the build (e.g. linux/amd64,linux/arm64)"},
      {.name = "progress", .type = FlagType::kString,
       .usage = "Set type of progress output (auto, plain, tty, quiet, rawjson). Use plain to "
                "show container output",
       .default_value = "auto"},
      {.name = "provenance", .type = FlagType::kString,
       .usage = "Attach a SLSA provenance attestation (true, false, mode=min or mode=max)"},
      {.name = "pull", .usage = "Always attempt to pull a newer version of the image"},
      {.name = "push", .usage = "Push the image to its registry after building it"},
      {.name = "quiet", .shorthand = 'q',
       .usage = "Suppress the build output and print image ID on success"},
      {.name = "secret", .type = FlagType::kStringArray,
       .usage = "Secret value exposed to the build. Format id=secretname,src=filepath "
                "(or id=secretname,env=VAR)"},
      {.name = "squash", .usage = "Squash newly built layers into a single new layer"},
      {.name = "ssh", .type = FlagType::kStringArray,
       .usage = "Allow forwarding SSH agent to the builder. Format default|<id>[=<socket>|<key>[,<key>]]"},
      {.name = "tag", .shorthand = 't', .type = FlagType::kStringArray,
       .usage = "Name and optionally a tag in the 'name:tag' format"},
      {.name = "target", .type = FlagType::kString, .usage = "Set the target build stage to build."},
  };
  build->run = RunBuild;
  return build;
}

}  // namespace kim::cli
