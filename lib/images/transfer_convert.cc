// Field-by-field conversions for Images.Distribute and Transfer.Receive.
#include "lib/images/transfer_convert.h"

namespace kim {
namespace {

namespace v1 = agent::v1;
using Phase = DistributeProgress::Phase;

v1::DistributeProgress::Phase ToProto(Phase phase) {
  switch (phase) {
    case Phase::kComparing: return v1::DistributeProgress::COMPARING;
    case Phase::kSending: return v1::DistributeProgress::SENDING;
    case Phase::kCommitting: return v1::DistributeProgress::COMMITTING;
    case Phase::kDone: return v1::DistributeProgress::DONE;
    case Phase::kFailed: return v1::DistributeProgress::FAILED;
  }
  return v1::DistributeProgress::PHASE_UNSPECIFIED;
}

Phase FromProto(v1::DistributeProgress::Phase phase) {
  switch (phase) {
    case v1::DistributeProgress::SENDING: return Phase::kSending;
    case v1::DistributeProgress::COMMITTING: return Phase::kCommitting;
    case v1::DistributeProgress::DONE: return Phase::kDone;
    case v1::DistributeProgress::FAILED: return Phase::kFailed;
    default: return Phase::kComparing;
  }
}

}  // namespace

v1::BlobDescriptor ToProto(const Descriptor& blob) {
  v1::BlobDescriptor out;
  out.set_media_type(blob.media_type);
  out.set_digest(blob.digest);
  out.set_size(blob.size);
  return out;
}

Descriptor FromProto(const v1::BlobDescriptor& blob) {
  return Descriptor{.media_type = blob.media_type(), .digest = blob.digest(), .size = blob.size()};
}

v1::TransferOffer ToProto(const TransferOffer& offer) {
  v1::TransferOffer out;
  for (const OfferedImage& image : offer.images) {
    v1::TransferImage* entry = out.add_images();
    for (const std::string& name : image.names) entry->add_names(name);
    *entry->mutable_target() = ToProto(image.target);
  }
  for (const Descriptor& blob : offer.blobs) *out.add_blobs() = ToProto(blob);
  out.set_pin(offer.pin);
  return out;
}

TransferOffer FromProto(const v1::TransferOffer& offer) {
  TransferOffer out{.pin = offer.pin()};
  for (const v1::TransferImage& image : offer.images()) {
    out.images.push_back({.names = {image.names().begin(), image.names().end()},
                          .target = FromProto(image.target())});
  }
  for (const v1::BlobDescriptor& blob : offer.blobs()) out.blobs.push_back(FromProto(blob));
  return out;
}

v1::AgentTarget ToProto(const AgentTarget& target) {
  v1::AgentTarget out;
  out.set_node(target.node);
  out.set_address(target.address);
  out.set_server_name(target.server_name);
  return out;
}

AgentTarget FromProto(const v1::AgentTarget& target) {
  return {.node = target.node(), .address = target.address(), .server_name = target.server_name()};
}

v1::DistributeProgress ToProto(const DistributeProgress& progress) {
  v1::DistributeProgress out;
  out.set_node(progress.node);
  out.set_phase(ToProto(progress.phase));
  out.set_blobs_total(progress.blobs_total);
  out.set_blobs_missing(progress.blobs_missing);
  out.set_bytes_total(progress.bytes_total);
  out.set_bytes_sent(progress.bytes_sent);
  out.set_error(progress.error);
  return out;
}

DistributeProgress FromProto(const v1::DistributeProgress& progress) {
  return {.node = progress.node(),
          .phase = FromProto(progress.phase()),
          .blobs_total = progress.blobs_total(),
          .blobs_missing = progress.blobs_missing(),
          .bytes_total = progress.bytes_total(),
          .bytes_sent = progress.bytes_sent(),
          .error = progress.error()};
}

v1::NodeDistribution ToProto(const NodeDistribution& result) {
  v1::NodeDistribution out;
  out.set_node(result.node);
  out.set_code(static_cast<int32_t>(result.status.code()));
  out.set_error(std::string(result.status.message()));
  out.set_blobs_total(result.blobs_total);
  out.set_blobs_sent(result.blobs_sent);
  out.set_bytes_sent(result.bytes_sent);
  for (const std::string& name : result.names) out.add_names(name);
  return out;
}

NodeDistribution FromProto(const v1::NodeDistribution& result) {
  NodeDistribution out{.node = result.node(),
                       .status = absl::Status(static_cast<absl::StatusCode>(result.code()),
                                              result.error()),
                       .blobs_total = result.blobs_total(),
                       .blobs_sent = result.blobs_sent(),
                       .bytes_sent = result.bytes_sent()};
  out.names.assign(result.names().begin(), result.names().end());
  return out;
}

}  // namespace kim
