// Helpers every kim command shares: global flags, backend options, error reporting.
#ifndef KIM_APPS_KIM_COMMANDS_COMMON_H_
#define KIM_APPS_KIM_COMMANDS_COMMON_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "apps/kim/cli/command.h"
#include "kim/connect.h"

namespace kim::cli {

// The flags every command inherits from the root (kubeconfig, namespace, backend addresses).
std::vector<Flag> GlobalFlags();

// The backend connection options the global flags describe, with the files --tlscacert,
// --tlscert and --tlskey name read into memory. InvalidArgument names a file that cannot be read.
absl::StatusOr<ConnectOptions> ConnectOptionsFrom(const FlagValues& flags);

// kim::ConnectImageService, ConnectBuildService and ConnectInstaller for the global flags
// (ConnectOptionsFrom's errors first).
absl::StatusOr<std::unique_ptr<ImageService>> ConnectImageService(const FlagValues& flags);
absl::StatusOr<std::unique_ptr<BuildService>> ConnectBuildService(const FlagValues& flags);
absl::StatusOr<std::unique_ptr<Installer>> ConnectInstaller(const FlagValues& flags);

// Prints `status` as "Error: <message>" on the invocation's error stream and returns the exit
// code for it (1).
int ReportError(const Invocation& invocation, const absl::Status& status);

// Checks an image argument that may be an image ID, an ID prefix or a reference; returns
// InvalidArgument with Docker's wording when it is none of these.
absl::Status ValidateImageArgument(const std::string& image);

// The user's registry credentials for the registry `image` names (Docker config, credential
// helpers); empty credentials when there are none.
absl::StatusOr<RegistryCredentials> CredentialsFor(const std::string& image);

// Builders of the command tree, one per file.
std::unique_ptr<Command> NewRootCommand();
std::unique_ptr<Command> NewImageCommand();
std::unique_ptr<Command> NewSystemCommand();
std::unique_ptr<Command> NewBuildCommand();
std::unique_ptr<Command> NewListCommand();
std::unique_ptr<Command> NewPullCommand();
std::unique_ptr<Command> NewPushCommand();
std::unique_ptr<Command> NewRemoveCommand();
std::unique_ptr<Command> NewTagCommand();
std::unique_ptr<Command> NewSaveCommand();
std::unique_ptr<Command> NewLoadCommand();
// inspect, history, completion (issue #14)
std::unique_ptr<Command> NewInspectCommand();
std::unique_ptr<Command> NewHistoryCommand();
std::unique_ptr<Command> NewCompletionCommand();

// Pruning and disk usage (image_prune.cc, builder_prune.cc, system_df.cc).
std::unique_ptr<Command> NewImagePruneCommand();
std::unique_ptr<Command> NewBuilderPruneCommand();
std::unique_ptr<Command> NewSystemDfCommand();

// `kim image distribute` (distribute.cc).
std::unique_ptr<Command> NewDistributeCommand();

// Turns an `image` subcommand into its top-level shortcut (`kim build` for `kim image build`):
// new name and usage, listed under "Images Shortcuts", aliased to the full path.
std::unique_ptr<Command> AsShortcut(std::unique_ptr<Command> command, std::string name,
                                    std::string use);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_COMMANDS_COMMON_H_
