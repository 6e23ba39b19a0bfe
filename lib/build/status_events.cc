#include "lib/build/status_events.h"

#include "absl/strings/str_join.h"

namespace kim::build {
namespace {

std::optional<absl::Time> TimeOf(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

absl::Time TimeOrEpoch(bool has, const google::protobuf::Timestamp& t) {
  auto time = TimeOf(has, t);
  return time ? *time : absl::UnixEpoch();
}

}  // namespace

std::vector<BuildEvent> DecodeStatus(const moby::buildkit::v1::StatusResponse& status) {
  std::vector<BuildEvent> events;
  for (const auto& vertex : status.vertexes()) {
    BuildEvent event;
    event.kind = BuildEvent::Kind::kVertex;
    event.vertex = vertex.digest();
    event.name = vertex.name();
    event.inputs.assign(vertex.inputs().begin(), vertex.inputs().end());
    event.cached = vertex.cached();
    event.started = TimeOf(vertex.has_started(), vertex.started());
    event.completed = TimeOf(vertex.has_completed(), vertex.completed());
    event.error = vertex.error();
    event.timestamp = event.completed ? *event.completed
                      : event.started ? *event.started
                                      : absl::Now();
    events.push_back(std::move(event));
  }
  for (const auto& s : status.statuses()) {
    BuildEvent event;
    event.kind = BuildEvent::Kind::kProgress;
    event.vertex = s.vertex();
    event.id = s.id();
    event.name = s.name().empty() ? s.id() : s.name();
    event.current = s.current();
    event.total = s.total();
    event.started = TimeOf(s.has_started(), s.started());
    event.completed = TimeOf(s.has_completed(), s.completed());
    event.timestamp = TimeOrEpoch(s.has_timestamp(), s.timestamp());
    events.push_back(std::move(event));
  }
  for (const auto& log : status.logs()) {
    BuildEvent event;
    event.kind = BuildEvent::Kind::kLog;
    event.vertex = log.vertex();
    event.stream = static_cast<int>(log.stream());
    event.log = log.msg();
    event.timestamp = TimeOrEpoch(log.has_timestamp(), log.timestamp());
    events.push_back(std::move(event));
  }
  for (const auto& warning : status.warnings()) {
    BuildEvent event;
    event.kind = BuildEvent::Kind::kWarning;
    event.vertex = warning.vertex();
    event.name = warning.short_();
    event.log = absl::StrJoin(warning.detail(), "\n");
    event.url = warning.url();
    event.timestamp = absl::Now();
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace kim::build
