// Global flags, backend options and error reporting shared by the commands.
#include "apps/kim/commands/common.h"

#include <ostream>

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

ConnectOptions ConnectOptionsFrom(const FlagValues& flags) {
  ConnectOptions options;
  options.kubeconfig = flags.String("kubeconfig");
  options.context = flags.String("context");
  options.namespace_name = flags.String("namespace");
  options.tunnel = flags.String("tunnel");
  options.containerd_socket = flags.String("containerd-socket");
  options.agent_addr = flags.String("agent-addr");
  options.buildkit_addr = flags.String("buildkit-addr");
  options.tls_ca_cert = flags.String("tlscacert");
  options.tls_cert = flags.String("tlscert");
  options.tls_key = flags.String("tlskey");
  return options;
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
