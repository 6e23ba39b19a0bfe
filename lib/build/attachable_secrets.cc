// Secrets.GetSecret: `--secret` values from files or environment variables, read when asked for.
#include "lib/build/attachables.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "lib/build/attachable_util.h"
#include "moby/buildkit/secrets/v1/secrets.pb.h"

namespace kim::build {
namespace {

// Secrets.GetSecret: the secret's file or environment variable, read when asked for.
absl::Status GetSecret(const std::vector<BuildSecret>& secrets,
                       const moby::buildkit::secrets::v1::GetSecretRequest& request,
                       moby::buildkit::secrets::v1::GetSecretResponse* response) {
  for (const BuildSecret& secret : secrets) {
    if (secret.id != request.id()) continue;
    if (!secret.env.empty()) {
      const char* value = getenv(secret.env.c_str());
      if (value == nullptr) break;
      response->set_data(value);
      return absl::OkStatus();
    }
    std::ifstream file(secret.file, std::ios::binary);
    if (!file) {
      return absl::UnknownError(
          absl::StrCat("failed to read secret \"", secret.id, "\" from ", secret.file));
    }
    std::ostringstream content;
    content << file.rdbuf();
    response->set_data(content.str());
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("secret ", request.id(), " not found"));
}

}  // namespace

std::vector<SessionMethod> SecretsMethods(std::vector<BuildSecret> secrets) {
  using moby::buildkit::secrets::v1::GetSecretRequest;
  using moby::buildkit::secrets::v1::GetSecretResponse;
  return {Unary<GetSecretRequest, GetSecretResponse>(
      "/moby.buildkit.secrets.v1.Secrets/GetSecret",
      [secrets = std::move(secrets)](SessionCall&, const GetSecretRequest& request,
                                     GetSecretResponse* response) {
        return GetSecret(secrets, request, response);
      })};
}

}  // namespace kim::build
