// BuildKit status streams decoded into BuildEvents (lib/build/status_events.h) and rendered by
// the plain progress printer, on a stream recorded from buildkitd v0.17.3 (`buildctl build
// --progress rawjson` of test/data/build/status_busybox_run.jsonl's build: FROM busybox, a RUN
// writing to stdout and stderr, a COPY and a second RUN).
#include <catch2/catch.hpp>

#include <cpprest/json.h>

#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "apps/kim/output/build_progress.h"
#include "lib/build/status_events.h"

namespace {

void SetTime(const web::json::value& object, const char* key, google::protobuf::Timestamp* out) {
  if (!object.has_field(key)) return;
  absl::Time t;
  std::string error;
  REQUIRE(absl::ParseTime(absl::RFC3339_full, object.at(key).as_string(), &t, &error));
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

std::string Str(const web::json::value& object, const char* key) {
  return object.has_field(key) ? object.at(key).as_string() : "";
}

// One line of buildctl's rawjson (Go's client.SolveStatus) as the StatusResponse it came from.
moby::buildkit::v1::StatusResponse FromRawJson(const std::string& line) {
  const web::json::value json = web::json::value::parse(line);
  moby::buildkit::v1::StatusResponse status;
  if (json.has_field("vertexes")) {
    for (const auto& v : json.at("vertexes").as_array()) {
      auto* vertex = status.add_vertexes();
      vertex->set_digest(Str(v, "digest"));
      vertex->set_name(Str(v, "name"));
      if (v.has_field("cached")) vertex->set_cached(v.at("cached").as_bool());
      if (v.has_field("inputs")) {
        for (const auto& input : v.at("inputs").as_array()) vertex->add_inputs(input.as_string());
      }
      if (v.has_field("started")) SetTime(v, "started", vertex->mutable_started());
      if (v.has_field("completed")) SetTime(v, "completed", vertex->mutable_completed());
      vertex->set_error(Str(v, "error"));
    }
  }
  if (json.has_field("statuses")) {
    for (const auto& s : json.at("statuses").as_array()) {
      auto* out = status.add_statuses();
      out->set_id(Str(s, "id"));
      out->set_vertex(Str(s, "vertex"));
      out->set_name(Str(s, "name"));
      if (s.has_field("current")) out->set_current(s.at("current").as_number().to_int64());
      if (s.has_field("total")) out->set_total(s.at("total").as_number().to_int64());
      if (s.has_field("timestamp")) SetTime(s, "timestamp", out->mutable_timestamp());
      if (s.has_field("started")) SetTime(s, "started", out->mutable_started());
      if (s.has_field("completed")) SetTime(s, "completed", out->mutable_completed());
    }
  }
  if (json.has_field("logs")) {
    for (const auto& l : json.at("logs").as_array()) {
      auto* out = status.add_logs();
      out->set_vertex(Str(l, "vertex"));
      out->set_stream(l.at("stream").as_number().to_int64());
      std::string data;
      REQUIRE(absl::Base64Unescape(Str(l, "data"), &data));
      out->set_msg(data);
      SetTime(l, "timestamp", out->mutable_timestamp());
    }
  }
  return status;
}

std::vector<moby::buildkit::v1::StatusResponse> Recorded() {
  std::ifstream file(KIM_TEST_DATA_DIR "/build/status_busybox_run.jsonl");
  REQUIRE(file);
  std::vector<moby::buildkit::v1::StatusResponse> out;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty()) out.push_back(FromRawJson(line));
  }
  return out;
}

}  // namespace

TEST_CASE("DecodeStatus: vertices, progress, logs of a recorded stream", "[build][status]") {
  int vertices = 0, progress = 0, logs = 0, cached = 0;
  std::string run_output;
  for (const auto& status : Recorded()) {
    for (const kim::BuildEvent& event : kim::build::DecodeStatus(status)) {
      CHECK_FALSE(event.vertex.empty());
      switch (event.kind) {
        case kim::BuildEvent::Kind::kVertex:
          ++vertices;
          cached += event.cached;
          CHECK_FALSE(event.name.empty());
          if (event.completed) CHECK(event.started.has_value());
          break;
        case kim::BuildEvent::Kind::kProgress:
          ++progress;
          CHECK_FALSE(event.id.empty());
          break;
        case kim::BuildEvent::Kind::kLog:
          ++logs;
          run_output += event.log;
          CHECK((event.stream == 1 || event.stream == 2));
          break;
        case kim::BuildEvent::Kind::kWarning:
          break;
      }
    }
  }
  CHECK(vertices > 10);
  CHECK(progress > 5);
  CHECK(logs == 3);
  CHECK(cached == 0);  // the recorded build ran on an empty cache
  CHECK(run_output == "hello from run\nto-stderr\ncontents\n");
}

TEST_CASE("BuildProgress plain on the recorded stream", "[build][status][progress]") {
  std::ostringstream out;
  kim::cli::BuildProgress progress(out, kim::cli::BuildProgress::Mode::kPlain);
  for (const auto& status : Recorded()) {
    for (const kim::BuildEvent& event : kim::build::DecodeStatus(status)) progress.Update(event);
  }
  progress.Finish();
  const std::string text = out.str();
  INFO(text);
  // Every step numbered once, in order, each ending DONE or CACHED; RUN output under its step.
  CHECK(text.starts_with("#1 [internal] load build definition from Dockerfile\n"));
  CHECK(text.find("#1 transferring dockerfile: 155B") != std::string::npos);
  CHECK(text.find("RUN echo hello from run && echo to-stderr >&2\n") != std::string::npos);
  CHECK(text.find(" hello from run\n") != std::string::npos);
  CHECK(text.find(" to-stderr\n") != std::string::npos);
  CHECK(text.find("COPY a.txt /a.txt\n") != std::string::npos);
  CHECK(text.find(" contents\n") != std::string::npos);
  int headers = 0, ends = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    const std::string rest = line.substr(space + 1);
    if (rest.starts_with("DONE ") || rest == "CACHED") ++ends;
    if (rest.starts_with("[") || rest.starts_with("exporting")) ++headers;
  }
  CHECK(headers > 0);
  CHECK(ends >= headers);
}
