// Parsers for `kim build`'s flag values, with the Docker CLI's and buildx's syntax.
#ifndef KIM_APPS_KIM_COMMANDS_BUILD_FLAGS_H_
#define KIM_APPS_KIM_COMMANDS_BUILD_FLAGS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kim/build_service.h"

namespace kim::cli {

// Looks up an environment variable; returns false when unset. Injected so tests need no setenv.
using EnvLookup = std::function<bool(const std::string& name, std::string* value)>;

// The process environment as an EnvLookup.
EnvLookup ProcessEnv();

// `--build-arg K=V` and `--build-arg K` (value from the environment; dropped when unset). Values
// are never split at commas. An empty key is an error.
absl::StatusOr<std::map<std::string, std::string>> ParseBuildArgs(
    const std::vector<std::string>& values, const EnvLookup& env);

// `--label K=V` (a bare K means an empty value).
absl::StatusOr<std::map<std::string, std::string>> ParseLabels(
    const std::vector<std::string>& values);

// `--secret id=x,src=path`, `id=x,env=VAR`, `id=x,type=file|env,source=...`.
absl::StatusOr<BuildSecret> ParseSecret(const std::string& value);

// `--ssh default`, `--ssh default=/path/agent.sock`, `--ssh id=key1,key2`.
absl::StatusOr<BuildSsh> ParseSsh(const std::string& value);

// `-o type=local,dest=dir`, `-o dir` (type=local), `-o -` (type=tar to stdout).
absl::StatusOr<BuildOutput> ParseOutput(const std::string& value);

// `-t` values: each normalised like Docker (`app` → `docker.io/library/app:latest`); digests are
// refused.
absl::StatusOr<std::vector<std::string>> ParseTags(const std::vector<std::string>& values);

// `--platform linux/amd64,linux/arm64` (repeatable, comma-separated), each normalised.
absl::StatusOr<std::vector<std::string>> ParsePlatforms(const std::vector<std::string>& values);

// `--progress`: one of auto, plain, tty, quiet, rawjson.
absl::Status ValidateProgressMode(const std::string& mode);

// `--add-host host:ip` (also host=ip, like buildx).
absl::StatusOr<std::string> ParseAddHost(const std::string& value);

}  // namespace kim::cli

#endif  // KIM_APPS_KIM_COMMANDS_BUILD_FLAGS_H_
