// `kim system` (alias `builder`): install, uninstall, info, login and logout of the builder.
#include <unistd.h>

#include <functional>
#include <iostream>
#include <ostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/output/table.h"

namespace kim::cli {
namespace {

// The BuildKit release kim installs by default: the one its tests run against.
constexpr char kDefaultBuildkitImage[] = "docker.io/moby/buildkit:v0.17.3";

// The value of --timeout: a positive duration such as 5m or 90s.
absl::StatusOr<absl::Duration> TimeoutFrom(const FlagValues& flags) {
  absl::Duration timeout;
  if (!absl::ParseDuration(flags.String("timeout"), &timeout) || timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid --timeout \"", flags.String("timeout"),
                                                   "\": expected a duration such as 5m or 90s"));
  }
  return timeout;
}

absl::StatusOr<InstallOptions> InstallOptionsFrom(const FlagValues& flags) {
  InstallOptions options;
  options.force = flags.Bool("force");
  options.selector = flags.String("selector");
  options.no_wait = flags.Bool("no-wait");
  options.no_fail = flags.Bool("no-fail");
  options.endpoint_addr = flags.String("endpoint-addr");
  options.agent_image = flags.String("agent-image");
  options.agent_port = std::stoi(flags.String("agent-port"));
  options.buildkit_image = flags.String("buildkit-image");
  options.buildkit_port = std::stoi(flags.String("buildkit-port"));
  options.buildkit_socket = flags.String("buildkit-socket");
  options.containerd_socket = flags.String("containerd-socket");
  options.containerd_volume = flags.String("containerd-volume");
  for (int port : {options.agent_port, options.buildkit_port}) {
    if (port < 1 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("invalid port ", port, ": must be 1-65535"));
    }
  }
  if (options.agent_port == options.buildkit_port) {
    return absl::InvalidArgumentError("--agent-port and --buildkit-port must differ");
  }
  auto timeout = TimeoutFrom(flags);
  if (!timeout.ok()) return timeout.status();
  options.timeout = *timeout;
  return options;
}

// Step lines of the installer go to stderr, like the original's log lines.
std::function<void(std::string_view)> ProgressTo(std::ostream* err) {
  return [err](std::string_view line) { *err << line << "\n" << std::flush; };
}

int RunInstall(Invocation& invocation) {
  auto options = InstallOptionsFrom(invocation.flags);
  if (!options.ok()) return ReportError(invocation, options.status());
  options->progress = ProgressTo(invocation.err);
  auto installer = ConnectInstaller(invocation.flags);
  if (!installer.ok()) return ReportError(invocation, installer.status());
  if (absl::Status status = (*installer)->Install(*options); !status.ok()) {
    return ReportError(invocation, status);
  }
  return kExitOk;
}

int RunUninstall(Invocation& invocation) {
  auto timeout = TimeoutFrom(invocation.flags);
  if (!timeout.ok()) return ReportError(invocation, timeout.status());
  auto installer = ConnectInstaller(invocation.flags);
  if (!installer.ok()) return ReportError(invocation, installer.status());
  UninstallOptions options{.force = invocation.flags.Bool("force"),
                           .no_wait = invocation.flags.Bool("no-wait"),
                           .timeout = *timeout,
                           .progress = ProgressTo(invocation.err)};
  if (absl::Status status = (*installer)->Uninstall(options); !status.ok()) {
    return ReportError(invocation, status);
  }
  return kExitOk;
}

// One line on what a running daemon says about itself, or why it does not answer.
std::string Running(const absl::StatusOr<DaemonVersion>& version) {
  if (!version.ok()) return absl::StrCat("not answering: ", version.status().message());
  std::string line = absl::StrCat("running ", version->name, " ", version->version);
  if (!version->revision.empty()) absl::StrAppend(&line, " (", version->revision.substr(0, 12), ")");
  if (!version->runtime_version.empty()) absl::StrAppend(&line, " on containerd ", version->runtime_version);
  return absl::StrCat(line, ", healthy");
}

// The NODES table: every node kim serves, its role, runtime, agent version and readiness
// ("false (why)" when the pod says why).
void WriteNodes(std::ostream& out, const std::vector<NodeStatus>& nodes) {
  if (nodes.empty()) return;
  out << "Nodes:\n";
  Table table(10, 3);
  table.AddRow({"NAME", "ROLE", "RUNTIME", "AGENT", "READY"});
  for (const NodeStatus& node : nodes) {
    std::string ready = node.ready ? "true" : "false";
    if (!node.ready && !node.message.empty()) absl::StrAppend(&ready, " (", node.message, ")");
    table.AddRow({node.name, node.role, node.runtime.empty() ? "-" : node.runtime,
                  node.agent_version.empty() ? "-" : node.agent_version, ready});
  }
  table.Write(out);
}

int RunInfo(Invocation& invocation) {
  auto installer = ConnectInstaller(invocation.flags);
  if (!installer.ok()) return ReportError(invocation, installer.status());
  auto info = (*installer)->Info();
  if (!info.ok()) return ReportError(invocation, info.status());
  std::ostream& out = *invocation.out;
  auto endpoint = [](const std::string& address) {
    return address.empty() ? std::string(" (no endpoint yet)") : absl::StrCat(" at ", address);
  };
  out << "Namespace:     " << info->namespace_name << "\n";
  out << "Builder node:  " << (info->nodes.empty() ? "(none labelled)" : absl::StrJoin(info->nodes, ", "))
      << "\n";
  out << "Ready:         " << info->ready << "/" << info->desired << "\n";
  out << "BuildKit:      " << info->buildkit_version << " (" << info->buildkit_image << ")"
      << endpoint(info->buildkit_endpoint) << "\n";
  out << "Agent:         " << info->agent_version << " (" << info->agent_image << ")"
      << endpoint(info->agent_endpoint) << "\n";
  // What the running pods say, not what was installed: only once a pod is ready, so that
  // nothing dials an address that no builder answers at yet.
  if (info->ready > 0 && !info->buildkit_endpoint.empty()) {
    auto build = ConnectBuildService(invocation.flags);
    out << "  buildkitd:   " << Running(build.ok() ? (*build)->Version() : build.status()) << "\n";
    auto images = ConnectImageService(invocation.flags);
    out << "  kim-agent:   " << Running(images.ok() ? (*images)->Version() : images.status()) << "\n";
  }
  if (info->certificate_expiry != absl::InfinitePast()) {
    out << "Certificate:   expires "
        << absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", info->certificate_expiry, absl::UTCTimeZone())
        << " (in " << absl::ToInt64Hours(info->certificate_expiry - absl::Now()) / 24 << " days)\n";
  }
  WriteNodes(out, info->node_status);
  return kExitOk;
}

// Reads the password for `login`: from stdin with --password-stdin, else from the flag, else
// from the terminal without echo.
absl::StatusOr<std::string> ReadPassword(const FlagValues& flags) {
  if (flags.Bool("password-stdin")) {
    std::string password;
    std::getline(std::cin, password);
    return std::string(absl::StripTrailingAsciiWhitespace(password));
  }
  if (flags.Changed("password")) return flags.String("password");
  if (!isatty(STDIN_FILENO)) {
    return absl::FailedPreconditionError("cannot perform an interactive login from a non TTY "
                                         "device; use --password-stdin");
  }
  const char* typed = getpass("Password: ");
  if (typed == nullptr) return absl::FailedPreconditionError("cannot read the password");
  return std::string(typed);
}

int RunLogin(Invocation& invocation) {
  const FlagValues& flags = invocation.flags;
  if (flags.Changed("password") && flags.Bool("password-stdin")) {
    return UsageError(*invocation.command, "--password and --password-stdin are mutually exclusive",
                      *invocation.err);
  }
  if (flags.Bool("password-stdin") && flags.String("username").empty()) {
    return UsageError(*invocation.command, "must provide --username with --password-stdin",
                      *invocation.err);
  }
  if (flags.Changed("password")) {
    *invocation.err << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
  }
  auto installer = ConnectInstaller(flags);
  if (!installer.ok()) return ReportError(invocation, installer.status());
  LoginOptions options;
  options.server = invocation.args.empty() ? "" : invocation.args.front();
  options.username = flags.String("username");
  if (options.username.empty()) {
    if (!isatty(STDIN_FILENO)) {
      return ReportError(invocation, absl::FailedPreconditionError(
                                         "cannot perform an interactive login from a non TTY "
                                         "device; use --username and --password-stdin"));
    }
    *invocation.out << "Username: " << std::flush;
    std::getline(std::cin, options.username);
  }
  auto password = ReadPassword(flags);
  if (!password.ok()) return ReportError(invocation, password.status());
  if (password->empty()) {
    return ReportError(invocation, absl::InvalidArgumentError("password is required"));
  }
  options.password = *std::move(password);
  if (absl::Status status = (*installer)->Login(options); !status.ok()) {
    return ReportError(invocation, status);
  }
  *invocation.out << "Login Succeeded\n";
  return kExitOk;
}

int RunLogout(Invocation& invocation) {
  auto installer = ConnectInstaller(invocation.flags);
  if (!installer.ok()) return ReportError(invocation, installer.status());
  const std::string server = invocation.args.empty() ? "" : invocation.args.front();
  if (absl::Status status = (*installer)->Logout(server); !status.ok()) {
    return ReportError(invocation, status);
  }
  return kExitOk;
}

std::unique_ptr<Command> NewCommand(std::string name, std::string use, std::string short_help,
                                    ArgCount args, Command::RunFunc run) {
  auto command = std::make_unique<Command>();
  command->name = std::move(name);
  command->use = std::move(use);
  command->short_help = std::move(short_help);
  command->args = args;
  command->run = std::move(run);
  return command;
}

}  // namespace

std::unique_ptr<Command> NewSystemCommand() {
  auto system = std::make_unique<Command>();
  system->name = "system";
  system->aliases = {"builder"};
  system->use = "[OPTIONS] COMMAND";
  system->short_help = "Manage KIM";
  system->example = "{path} install --selector k3s.io/hostname=my-builder-node";

  Command* install = system->Add(NewCommand("install", "[OPTIONS]",
                                            "Install builder component(s)", {0, 0}, RunInstall));
  install->flags = {
      {.name = "agent-image", .type = FlagType::kString,
       .usage = "Image to run the agent w/ missing tag inferred from version"},
      {.name = "agent-port", .type = FlagType::kInt, .usage = "Port that the agent will listen on",
       .default_value = "1233"},
      {.name = "buildkit-image", .type = FlagType::kString,
       .usage = "BuildKit image for running buildkitd", .default_value = kDefaultBuildkitImage},
      {.name = "buildkit-port", .type = FlagType::kInt, .usage = "BuildKit service port",
       .default_value = "1234"},
      {.name = "buildkit-socket", .type = FlagType::kString, .usage = "BuildKit socket address",
       .default_value = "unix:///run/buildkit/buildkitd.sock"},
      {.name = "containerd-socket", .type = FlagType::kString,
       .usage = "Containerd socket address (default on k3s \"/run/k3s/containerd/containerd.sock\")"},
      {.name = "containerd-volume", .type = FlagType::kString,
       .usage = "containerd's root directory on the node (default on k3s \"/var/lib/rancher/k3s/agent/containerd\")"},
      {.name = "endpoint-addr", .type = FlagType::kString,
       .usage = "Override the endpoint address clients dial (e.g. 127.0.0.1 when the node IP is "
                "not routable)"},
      {.name = "force", .usage = "Force installation by deleting existing builder"},
      {.name = "no-fail", .usage = "Do not fail if backend components are already installed"},
      {.name = "no-wait", .usage = "Do not wait for the builder's pod to become ready"},
      {.name = "selector", .type = FlagType::kString,
       .usage = "Selector for nodes (label query) to apply builder role"},
      {.name = "timeout", .type = FlagType::kDuration,
       .usage = "How long to wait for the builder's pod to become ready (a stuck pod fails "
                "sooner)",
       .default_value = "5m"},
  };

  Command* uninstall = system->Add(NewCommand("uninstall", "[OPTIONS]",
                                              "Uninstall builder component(s)", {0, 0},
                                              RunUninstall));
  uninstall->flags = {
      {.name = "force", .usage = "Force uninstallation by deleting namespace"},
      {.name = "no-wait", .usage = "Do not wait for the builder and its namespace to be deleted"},
      {.name = "timeout", .type = FlagType::kDuration,
       .usage = "How long to wait for everything to be deleted", .default_value = "5m"},
  };

  Command* info = system->Add(NewCommand(
      "info", "[OPTIONS]", "Show the builder's nodes, versions and endpoints, and every node kim serves",
      {0, 0}, RunInfo));
  info->long_help =
      "Show the builder's nodes, versions and endpoints, and every node kim serves.\n"
      "The NODES table lists each node with its role (builder: BuildKit and the agent; agent: the\n"
      "agent alone), its container runtime, the agent's version and whether its pod is ready.";

  Command* login = system->Add(NewCommand("login", "[OPTIONS] [SERVER]",
                                          "Establish credentials for a registry.", {0, 1},
                                          RunLogin));
  login->long_help = "Establish credentials for a registry.\nIf no server is specified, the "
                     "default is Docker Hub.";
  login->flags = {
      {.name = "password", .shorthand = 'p', .type = FlagType::kString, .usage = "Password"},
      {.name = "password-stdin", .usage = "Take the password from stdin"},
      {.name = "username", .shorthand = 'u', .type = FlagType::kString, .usage = "Username"},
  };

  system->Add(NewCommand("logout", "[SERVER]", "Remove credentials for a registry.", {0, 1},
                         RunLogout));
  system->Add(NewBuilderPruneCommand());
  system->Add(NewSystemDfCommand());
  return system;
}

}  // namespace kim::cli
