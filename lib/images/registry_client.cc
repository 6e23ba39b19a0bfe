// Distribution v2 reads: manifests by tag or digest, blob existence. Pushes are in
// registry_push.cc.
#include "lib/images/registry_client.h"

#include <cpprest/http_client.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/images/registry_manifest.h"
#include "lib/images/registry_paths.h"
#include "lib/images/registry_transport.h"

namespace kim {
namespace {

namespace http = web::http;

// The media type without parameters ("application/json; charset=utf-8" -> "application/json").
std::string BareMediaType(std::string_view content_type) {
  const std::string bare(content_type.substr(0, content_type.find(';')));
  return std::string(absl::StripAsciiWhitespace(bare));
}

bool IsKnownManifestType(std::string_view media_type) {
  return IsIndex(media_type) || IsManifest(media_type);
}

}  // namespace

const std::string& ManifestAcceptHeader() {
  static const std::string* accept = new std::string(absl::StrCat(
      kOciIndex, ", ", kOciManifest, ", ", kDockerManifestList, ", ", kDockerManifest));
  return *accept;
}

absl::StatusOr<std::unique_ptr<RegistryClient>> RegistryClient::Create(
    RegistryClientOptions options) {
  if (options.chunk_size == 0) return absl::InvalidArgumentError("chunk size must not be 0");
  if (options.max_concurrent_uploads < 1) options.max_concurrent_uploads = 1;
  auto transport = RegistryTransport::Create(RegistryTransportOptions{
      .host = options.host,
      .credentials = options.credentials,
      .insecure = options.insecure,
      .timeout = options.timeout,
  });
  if (!transport.ok()) return transport.status();
  return std::unique_ptr<RegistryClient>(
      new RegistryClient(std::move(options), *std::move(transport)));
}

RegistryClient::RegistryClient(RegistryClientOptions options,
                               std::unique_ptr<RegistryTransport> transport)
    : options_(std::move(options)), transport_(std::move(transport)) {}

RegistryClient::~RegistryClient() = default;

absl::Status RegistryClient::CheckDomain(const ImageReference& ref) const {
  if (ref.Domain() == options_.host ||
      (IsDockerHub(ref.Domain()) && IsDockerHub(options_.host))) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("image \"", ref.String(), "\" is not on registry ",
                                                 options_.host));
}

absl::StatusOr<Descriptor> RegistryClient::Resolve(const ImageReference& ref) {
  if (auto status = CheckDomain(ref); !status.ok()) return status;
  const std::string name = ref.String();
  RegistryRequest request{
      .method = http::methods::HEAD,
      .target = registry::ManifestPath(ref.Path(), registry::ManifestReference(ref)),
      .scopes = {RepositoryScope(ref.Path(), "pull")},
      .headers = {{"Accept", ManifestAcceptHeader()}},
  };
  auto response = transport_->Send(request);
  if (!response.ok()) return registry::WithPrefix(response.status(), name);
  if (response->status_code() == http::status_codes::NotFound) {
    return absl::NotFoundError(absl::StrCat(name, ": not found"));
  }
  if (response->status_code() == http::status_codes::OK) {
    Descriptor descriptor;
    descriptor.digest = HeaderValue(*response, "Docker-Content-Digest");
    descriptor.media_type = BareMediaType(HeaderValue(*response, "Content-Type"));
    const std::string length = HeaderValue(*response, "Content-Length");
    if (!descriptor.digest.empty() && Digest::Validate(descriptor.digest).ok() &&
        IsKnownManifestType(descriptor.media_type) && !length.empty() &&
        absl::SimpleAtoi(length, &descriptor.size)) {
      return descriptor;
    }
  }
  // Registries that do not support HEAD (405) or leave out the digest: fetch the manifest.
  auto fetched = FetchManifest(ref);
  if (!fetched.ok()) return fetched.status();
  return fetched->first;
}

absl::StatusOr<std::pair<Descriptor, std::string>> RegistryClient::FetchManifest(
    const ImageReference& ref) {
  if (auto status = CheckDomain(ref); !status.ok()) return status;
  const std::string name = ref.String();
  RegistryRequest request{
      .method = http::methods::GET,
      .target = registry::ManifestPath(ref.Path(), registry::ManifestReference(ref)),
      .scopes = {RepositoryScope(ref.Path(), "pull")},
      .headers = {{"Accept", ManifestAcceptHeader()}},
  };
  auto response = transport_->Send(request);
  if (!response.ok()) return registry::WithPrefix(response.status(), name);
  std::string body = BodyOf(*response);
  if (response->status_code() == http::status_codes::NotFound) {
    return absl::NotFoundError(absl::StrCat(name, ": not found"));
  }
  if (response->status_code() != http::status_codes::OK) {
    return absl::UnknownError(absl::StrCat(name, ": registry ", options_.host, " answered ",
                                           DescribeResponse(*response, body)));
  }
  Descriptor descriptor;
  descriptor.media_type = BareMediaType(HeaderValue(*response, "Content-Type"));
  if (!IsKnownManifestType(descriptor.media_type)) {
    const std::string declared = ManifestMediaType(body);
    if (!declared.empty()) descriptor.media_type = declared;
  }
  descriptor.size = static_cast<int64_t>(body.size());
  const std::string computed = DigestOf(body).String();
  if (ref.HasDigest()) {
    descriptor.digest = ref.Digest()->String();
    if (ref.Digest()->Algorithm() == Digest::kSha256 && computed != descriptor.digest) {
      return absl::DataLossError(absl::StrCat(name, ": registry ", options_.host,
                                              " sent a manifest with digest ", computed));
    }
  } else {
    descriptor.digest = computed;
  }
  return std::make_pair(std::move(descriptor), std::move(body));
}

absl::StatusOr<bool> RegistryClient::BlobExists(const ImageReference& ref,
                                                const std::string& digest) {
  if (auto status = CheckDomain(ref); !status.ok()) return status;
  auto response = transport_->Send(RegistryRequest{
      .method = http::methods::HEAD,
      .target = registry::BlobPath(ref.Path(), digest),
      .scopes = {RepositoryScope(ref.Path(), "pull")},
  });
  if (!response.ok()) return registry::WithPrefix(response.status(), ref.Name());
  if (response->status_code() == http::status_codes::OK) return true;
  if (response->status_code() == http::status_codes::NotFound) return false;
  return absl::UnknownError(absl::StrCat(ref.Name(), ": blob ", registry::ShortDigest(digest),
                                         ": registry ", options_.host, " answered ",
                                         DescribeResponse(*response, "")));
}

// One push: the walk of the image, then blobs (in parallel), then manifests.

}  // namespace kim
