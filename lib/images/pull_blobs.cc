// PullBlobs: the registry's manifest (the node's entry of an index) read before CRI pulls.
#include "lib/images/pull_blobs.h"

#include <algorithm>

#include "kim/platform.h"
#include "lib/images/containerd_image_json.h"
#include "lib/images/registry_client.h"

namespace kim {

std::vector<Descriptor> PullBlobs(const ImageReference& reference,
                                  const RegistryCredentials& credentials) {
  auto client = RegistryClient::Create(
      {.host = reference.Domain(), .credentials = credentials, .timeout = absl::Seconds(10)});
  if (!client.ok()) return {};
  auto fetched = (*client)->FetchManifest(reference);
  if (!fetched.ok()) return {};
  std::string manifest = fetched->second;
  if (IsIndex(fetched->first.media_type)) {
    auto entries = IndexManifests(manifest);
    if (!entries.ok()) return {};
    const Platform node = HostPlatform();
    auto entry = std::find_if(entries->begin(), entries->end(), [&](const Descriptor& d) {
      return d.platform && d.platform->Matches(node);
    });
    if (entry == entries->end()) return {};
    auto digest = Digest::Parse(entry->digest);
    if (!digest.ok()) return {};
    auto child = (*client)->FetchManifest(reference.WithDigest(*digest));
    if (!child.ok()) return {};
    manifest = child->second;
  }
  auto blobs = ManifestBlobs(manifest);
  return blobs.ok() ? *blobs : std::vector<Descriptor>{};
}

}  // namespace kim
