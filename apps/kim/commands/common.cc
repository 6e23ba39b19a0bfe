// Global flags, backend options and error reporting shared by the commands.
#include "apps/kim/commands/common.h"

#include <fstream>
#include <ostream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

#include "kim/credentials.h"
#include "kim/digest.h"
#include "kim/reference.h"

namespace kim::cli {

std::vector<Flag> GlobalFlags() {
  return {
      {.name = "context", .shorthand = 'x', .type = FlagType::kString,
       .usage = "kubeconfig context for authentication", .env = "KUBECONTEXT"},
      {.name = "debug", .type = FlagType::kBool, .usage = "Enable debug logging"},
      {.name = "debug-level", .type = FlagType::kInt,
       .usage = "Debug verbosity, with --debug (0-9)"},
      {.name = "kubeconfig", .shorthand = 'k', .type = FlagType::kString,
       .usage = "kubeconfig for authentication", .env = "KUBECONFIG"},
      {.name = "namespace", .shorthand = 'n', .type = FlagType::kString, .usage = "namespace",
       .default_value = "kube-image", .env = "KIM_NAMESPACE"},
      {.name = "tunnel", .type = FlagType::kString,
       .usage = "Reach the builder directly (never), through the API server (always), or "
                "directly with the API server as fallback (auto) (env KIM_TUNNEL)",
       .default_value = "auto", .env = "KIM_TUNNEL", .choices = {"auto", "always", "never"}},
      {.name = "containerd-socket", .type = FlagType::kString,
       .usage = "Act on this containerd socket directly, without Kubernetes "
                "(env KIM_CONTAINERD_SOCKET)",
       .env = "KIM_CONTAINERD_SOCKET"},
      {.name = "agent-addr", .type = FlagType::kString,
       .usage = "Dial this kim-agent (host:port) instead of discovering it (env KIM_AGENT_ADDR)",
       .env = "KIM_AGENT_ADDR"},
      {.name = "buildkit-addr", .type = FlagType::kString,
       .usage = "Dial this buildkitd (tcp://host:port or unix://path) instead of discovering it "
                "(env KIM_BUILDKIT_ADDR)",
       .env = "KIM_BUILDKIT_ADDR"},
      {.name = "tlscacert", .type = FlagType::kString,
       .usage = "CA certificate for --agent-addr and --buildkit-addr (env KIM_TLSCACERT)",
       .env = "KIM_TLSCACERT"},
      {.name = "tlscert", .type = FlagType::kString,
       .usage = "Client certificate for --agent-addr and --buildkit-addr (env KIM_TLSCERT)",
       .env = "KIM_TLSCERT"},
      {.name = "tlskey", .type = FlagType::kString,
       .usage = "Client key for --agent-addr and --buildkit-addr (env KIM_TLSKEY)",
       .env = "KIM_TLSKEY"},
  };
}

namespace {

// The contents of the file the TLS flag `flag` names; "" when the flag is not set.
absl::StatusOr<std::string> ReadTlsFlag(const FlagValues& flags, const std::string& flag) {
  const std::string path = flags.String(flag);
  if (path.empty()) return std::string();
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read --", flag, " \"", path, "\""));
  }
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace

absl::StatusOr<ConnectOptions> ConnectOptionsFrom(const FlagValues& flags) {
  ConnectOptions options;
  options.kubeconfig = flags.String("kubeconfig");
  options.context = flags.String("context");
  options.namespace_name = flags.String("namespace");
  options.tunnel = flags.String("tunnel");
  options.containerd_socket = flags.String("containerd-socket");
  options.agent_addr = flags.String("agent-addr");
  options.buildkit_addr = flags.String("buildkit-addr");
  options.node = flags.String("node");  // the commands that have --node
  for (const auto& [flag, pem] : {std::pair{"tlscacert", &options.tls.ca},
                                   std::pair{"tlscert", &options.tls.cert},
                                   std::pair{"tlskey", &options.tls.key}}) {
    auto read = ReadTlsFlag(flags, flag);
    if (!read.ok()) return read.status();
    *pem = *std::move(read);
  }
  return options;
}

absl::StatusOr<std::unique_ptr<ImageService>> ConnectImageService(const FlagValues& flags) {
  auto options = ConnectOptionsFrom(flags);
  if (!options.ok()) return options.status();
  return kim::ConnectImageService(*options);
}

absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuildService(const FlagValues& flags) {
  auto options = ConnectOptionsFrom(flags);
  if (!options.ok()) return options.status();
  return kim::ConnectBuildService(*options);
}

absl::StatusOr<std::unique_ptr<Installer>> ConnectInstaller(const FlagValues& flags) {
  auto options = ConnectOptionsFrom(flags);
  if (!options.ok()) return options.status();
  return kim::ConnectInstaller(*options);
}

int ReportError(const Invocation& invocation, const absl::Status& status) {
  *invocation.err << "Error: " << status.message() << "\n";
  return kExitFailure;
}

absl::StatusOr<RegistryCredentials> CredentialsFor(const std::string& image) {
  auto ref = ImageReference::ParseNormalized(image);
  if (!ref.ok()) return ref.status();
  auto config = DockerConfig::Load();
  if (!config.ok()) return config.status();
  return config->CredentialsFor(ref->Domain());
}

absl::Status ValidateImageArgument(const std::string& image) {
  if (IsImageIdPrefix(image)) return absl::OkStatus();
  return ImageReference::ParseNormalized(image).status();
}

std::unique_ptr<Command> AsShortcut(std::unique_ptr<Command> command, std::string name,
                                    std::string use) {
  command->shown_aliases = {name, "image " + command->name};
  command->name = std::move(name);
  command->aliases.clear();
  command->use = std::move(use);
  command->group = "Images Shortcuts";
  return command;
}

}  // namespace kim::cli
