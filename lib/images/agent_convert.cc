// Field-by-field conversions for the kim agent API.
#include "lib/images/agent_convert.h"

namespace kim {
namespace {

namespace v1 = agent::v1;

v1::LayerProgress::State ToProto(TransferState state) {
  switch (state) {
    case TransferState::kWaiting: return v1::LayerProgress::WAITING;
    case TransferState::kTransferring: return v1::LayerProgress::TRANSFERRING;
    case TransferState::kVerifying: return v1::LayerProgress::VERIFYING;
    case TransferState::kExtracting: return v1::LayerProgress::EXTRACTING;
    case TransferState::kDone: return v1::LayerProgress::DONE;
    case TransferState::kExists: return v1::LayerProgress::EXISTS;
    case TransferState::kMounted: return v1::LayerProgress::MOUNTED;
  }
  return v1::LayerProgress::STATE_UNSPECIFIED;
}

TransferState FromProto(v1::LayerProgress::State state) {
  switch (state) {
    case v1::LayerProgress::TRANSFERRING: return TransferState::kTransferring;
    case v1::LayerProgress::VERIFYING: return TransferState::kVerifying;
    case v1::LayerProgress::EXTRACTING: return TransferState::kExtracting;
    case v1::LayerProgress::DONE: return TransferState::kDone;
    case v1::LayerProgress::EXISTS: return TransferState::kExists;
    case v1::LayerProgress::MOUNTED: return TransferState::kMounted;
    default: return TransferState::kWaiting;
  }
}

}  // namespace

v1::Image ToProto(const Image& image) {
  v1::Image out;
  out.set_id(image.id);
  for (const std::string& tag : image.repo_tags) out.add_repo_tags(tag);
  for (const std::string& digest : image.repo_digests) out.add_repo_digests(digest);
  out.set_size(image.size);
  if (image.created != absl::InfinitePast()) {
    const absl::Duration since_epoch = image.created - absl::UnixEpoch();
    const int64_t seconds = absl::ToInt64Seconds(since_epoch);
    out.mutable_created()->set_seconds(seconds);
    out.mutable_created()->set_nanos(static_cast<int32_t>(
        absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(seconds))));
  }
  return out;
}

Image FromProto(const v1::Image& image) {
  Image out;
  out.id = image.id();
  out.repo_tags.assign(image.repo_tags().begin(), image.repo_tags().end());
  out.repo_digests.assign(image.repo_digests().begin(), image.repo_digests().end());
  out.size = image.size();
  if (image.has_created()) {
    out.created = absl::FromUnixSeconds(image.created().seconds()) +
                  absl::Nanoseconds(image.created().nanos());
  }
  return out;
}

v1::InspectResponse ToProto(const ImageDetails& details) {
  v1::InspectResponse out;
  *out.mutable_image() = ToProto(details.image);
  out.set_config(details.config_json);
  out.set_manifest_digest(details.manifest_digest);
  out.set_manifest_media_type(details.manifest_media_type);
  out.set_index_digest(details.index_digest);
  for (const LayerDetails& layer : details.layers) {
    v1::InspectLayer* added = out.add_layers();
    added->set_digest(layer.digest);
    added->set_media_type(layer.media_type);
    added->set_size(layer.size);
    added->set_diff_id(layer.diff_id);
    added->set_unpacked_size(layer.unpacked_size);
  }
  return out;
}

ImageDetails FromProto(const v1::InspectResponse& response) {
  ImageDetails out{.image = FromProto(response.image()),
                   .config_json = response.config(),
                   .manifest_digest = response.manifest_digest(),
                   .manifest_media_type = response.manifest_media_type(),
                   .index_digest = response.index_digest()};
  for (const v1::InspectLayer& layer : response.layers()) {
    out.layers.push_back({.digest = layer.digest(),
                          .media_type = layer.media_type(),
                          .size = layer.size(),
                          .diff_id = layer.diff_id(),
                          .unpacked_size = layer.unpacked_size()});
  }
  return out;
}

v1::LayerProgress ToProto(const BlobProgress& progress) {
  v1::LayerProgress out;
  out.set_digest(progress.digest);
  out.set_media_type(progress.media_type);
  out.set_state(ToProto(progress.state));
  out.set_offset(progress.offset);
  out.set_total(progress.total);
  return out;
}

BlobProgress FromProto(const v1::LayerProgress& progress) {
  return BlobProgress{.digest = progress.digest(),
                      .media_type = progress.media_type(),
                      .state = FromProto(progress.state()),
                      .offset = progress.offset(),
                      .total = progress.total()};
}

v1::RegistryAuth ToProto(const RegistryCredentials& credentials) {
  v1::RegistryAuth out;
  out.set_username(credentials.username);
  out.set_password(credentials.password);
  out.set_identity_token(credentials.identity_token);
  out.set_registry_token(credentials.registry_token);
  out.set_server_address(credentials.server_address);
  return out;
}

RegistryCredentials FromProto(const v1::RegistryAuth& auth) {
  RegistryCredentials out;
  out.username = auth.username();
  out.password = auth.password();
  out.identity_token = auth.identity_token();
  out.registry_token = auth.registry_token();
  out.server_address = auth.server_address();
  return out;
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace kim
