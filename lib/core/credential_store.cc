// Merging the user's registry credentials with those stored in the cluster.
#include "kim/credentials.h"

namespace kim {

absl::StatusOr<RegistryCredentials> MergeCredentials(absl::StatusOr<RegistryCredentials> user,
                                                     absl::StatusOr<RegistryCredentials> cluster) {
  if (user.ok() && !user->empty()) return user;
  if (cluster.ok() && !cluster->empty()) return cluster;
  return user;
}

CredentialStore::CredentialStore(DockerConfig cluster) : cluster_(std::move(cluster)) {}

CredentialStore::CredentialStore(absl::StatusOr<DockerConfig> user, DockerConfig cluster)
    : user_(std::move(user)), cluster_(std::move(cluster)) {}

absl::StatusOr<RegistryCredentials> CredentialStore::CredentialsFor(
    std::string_view registry_host) const {
  absl::StatusOr<DockerConfig> loaded = user_ ? *user_ : DockerConfig::Load();
  absl::StatusOr<RegistryCredentials> user =
      loaded.ok() ? loaded->CredentialsFor(registry_host)
                  : absl::StatusOr<RegistryCredentials>(loaded.status());
  return MergeCredentials(std::move(user), cluster_.CredentialsFor(registry_host));
}

}  // namespace kim
