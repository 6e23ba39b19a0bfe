// Auth: registry credentials for the daemon from a CredentialStore.
#include "lib/build/attachables.h"

#include "absl/strings/str_cat.h"
#include "kim/credentials.h"
#include "lib/build/attachable_util.h"
#include "moby/filesync/v1/filesync.pb.h"

namespace kim::build {
namespace {

// Auth.Credentials from `store`; anonymous (an empty answer) when there are none or the
// lookup fails, like buildctl with no usable config.
absl::Status Credentials(const CredentialStore& store,
                         const moby::filesync::v1::CredentialsRequest& request,
                         moby::filesync::v1::CredentialsResponse* response) {
  std::string host = request.host();
  if (host == "registry-1.docker.io") host = "docker.io";
  auto credentials = store.CredentialsFor(host);
  if (!credentials.ok()) return absl::OkStatus();
  if (!credentials->identity_token.empty()) {
    response->set_secret(credentials->identity_token);
    return absl::OkStatus();
  }
  response->set_username(credentials->username);
  response->set_secret(credentials->password);
  return absl::OkStatus();
}

}  // namespace

std::vector<SessionMethod> AuthMethods(std::shared_ptr<const CredentialStore> credentials) {
  if (credentials == nullptr) credentials = std::make_shared<const CredentialStore>();
  using moby::filesync::v1::CredentialsRequest;
  using moby::filesync::v1::CredentialsResponse;
  auto unimplemented = [](const char* name) {
    return SessionMethod{absl::StrCat("/moby.filesync.v1.Auth/", name), [name](SessionCall&) {
                           return absl::UnimplementedError(absl::StrCat("method ", name, " not implemented"));
                         }};
  };
  return {Unary<CredentialsRequest, CredentialsResponse>(
              "/moby.filesync.v1.Auth/Credentials",
              [credentials](SessionCall&, const CredentialsRequest& request,
                            CredentialsResponse* response) {
                return Credentials(*credentials, request, response);
              }),
          unimplemented("FetchToken"), unimplemented("GetTokenAuthority"),
          unimplemented("VerifyTokenAuthority")};
}

}  // namespace kim::build
