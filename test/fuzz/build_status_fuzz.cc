// Fuzz target for BuildKit's Status stream as kim decodes and shows it: each frame of the input
// is one StatusResponse (protobuf bytes from the daemon), decoded into build events and rendered
// as `--progress plain` and `rawjson` do (the TTY view draws the same state on a timer). Beyond
// "does not crash": every event of a response is decoded, and rendering the same events again
// prints the same output.
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "apps/kim/output/build_progress.h"
#include "lib/build/status_events.h"
#include "moby/buildkit/v1/control.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

namespace {

std::string Render(const std::vector<kim::BuildEvent>& events, kim::cli::BuildProgress::Mode mode) {
  std::ostringstream out;
  kim::cli::BuildProgress progress(out, mode, [] { return absl::FromUnixSeconds(1'800'000'000); });
  for (const kim::BuildEvent& event : events) progress.Update(event);
  progress.Finish();
  return out.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Strings with invalid UTF-8 are refused by protobuf, which logs each one: keep runs quiet.
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  std::vector<kim::BuildEvent> events;
  for (std::string_view frame : kim::fuzz::Frames(kim::fuzz::AsText(data, size))) {
    moby::buildkit::v1::StatusResponse status;
    if (!status.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) continue;
    std::vector<kim::BuildEvent> decoded = kim::build::DecodeStatus(status);
    Require(decoded.size() == static_cast<size_t>(status.vertexes_size() + status.statuses_size() +
                                                  status.logs_size() + status.warnings_size()),
            "one event per vertex, status, log and warning");
    for (kim::BuildEvent& event : decoded) {
      // Vertex and warning events without times are stamped with Now(): pin them.
      event.timestamp = absl::FromUnixSeconds(1'800'000'000);
      events.push_back(std::move(event));
    }
  }
  for (auto mode : {kim::cli::BuildProgress::Mode::kPlain, kim::cli::BuildProgress::Mode::kRawJson}) {
    Require(Render(events, mode) == Render(events, mode), "rendering is deterministic");
  }
  return 0;
}
