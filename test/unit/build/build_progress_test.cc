// Rendering of build progress (apps/kim/output/build_progress.h) from a status stream recorded
// from buildkitd v0.17.3 (a FROM + RUN build), with the times made fixed.
#include <catch2/catch.hpp>

#include <sstream>

#include "apps/kim/output/build_progress.h"

using kim::BuildEvent;
using kim::cli::BuildProgress;

namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);
absl::Time At(double seconds) { return kT0 + absl::Milliseconds(static_cast<int64_t>(seconds * 1000)); }

BuildEvent Vertex(const std::string& digest, const std::string& name,
                  std::optional<double> started, std::optional<double> completed,
                  bool cached = false, const std::string& error = "") {
  BuildEvent e;
  e.kind = BuildEvent::Kind::kVertex;
  e.vertex = digest;
  e.name = name;
  if (started) e.started = At(*started);
  if (completed) e.completed = At(*completed);
  e.cached = cached;
  e.error = error;
  return e;
}

BuildEvent Status(const std::string& digest, const std::string& id, int64_t current, int64_t total,
                  double started, std::optional<double> completed) {
  BuildEvent e;
  e.kind = BuildEvent::Kind::kProgress;
  e.vertex = digest;
  e.id = id;
  e.name = id;
  e.current = current;
  e.total = total;
  e.started = At(started);
  if (completed) e.completed = At(*completed);
  return e;
}

BuildEvent Log(const std::string& digest, double at, const std::string& text) {
  BuildEvent e;
  e.kind = BuildEvent::Kind::kLog;
  e.vertex = digest;
  e.stream = 1;
  e.log = text;
  e.timestamp = At(at);
  return e;
}

// The recorded stream, in the order the daemon sent it.
std::vector<BuildEvent> Recorded() {
  return {
      Vertex("sha256:d1", "[internal] load build definition from Dockerfile", 0.0, std::nullopt),
      Status("sha256:d1", "transferring dockerfile:", 0, 0, 0.0, std::nullopt),
      Vertex("sha256:d1", "[internal] load build definition from Dockerfile", 0.0, 0.02),
      Status("sha256:d1", "transferring dockerfile:", 125, 0, 0.0, 0.01),
      Vertex("sha256:b1", "[1/2] FROM registry/busybox:1", 0.1, 0.1, true),
      Vertex("sha256:r1", "[2/2] RUN echo hi; sleep 1; echo there", 0.2, std::nullopt),
      Log("sha256:r1", 0.37, "hi\n"),
      Log("sha256:r1", 1.374, "there\npartial"),
      Vertex("sha256:r1", "[2/2] RUN echo hi; sleep 1; echo there", 0.2, 1.6),
      Vertex("sha256:e1", "exporting to image", 1.6, std::nullopt),
      Status("sha256:e1", "exporting layers", 0, 0, 1.6, 1.7),
      Status("sha256:e1", "naming to docker.io/library/app:1", 0, 0, 1.7, 1.7),
      Vertex("sha256:e1", "exporting to image", 1.6, 1.8),
  };
}

}  // namespace

TEST_CASE("BuildProgress plain: buildx-style numbered lines", "[build][progress]") {
  std::ostringstream out;
  BuildProgress progress(out, BuildProgress::Mode::kPlain, [] { return kT0; });
  for (const BuildEvent& event : Recorded()) progress.Update(event);
  progress.Finish();
  CHECK(out.str() ==
        "#1 [internal] load build definition from Dockerfile\n"
        "#1 transferring dockerfile: 125B 0.0s done\n"
        "#1 DONE 0.0s\n"
        "\n"
        "#2 [1/2] FROM registry/busybox:1\n"
        "#2 CACHED\n"
        "\n"
        "#3 [2/2] RUN echo hi; sleep 1; echo there\n"
        "#3 0.170 hi\n"
        "#3 1.174 there\n"
        "#3 1.174 partial\n"
        "#3 DONE 1.4s\n"
        "\n"
        "#4 exporting to image\n"
        "#4 exporting layers 0.1s done\n"
        "#4 naming to docker.io/library/app:1 0.0s done\n"
        "#4 DONE 0.2s\n");
}

TEST_CASE("BuildProgress plain: a failed step shows its error", "[build][progress]") {
  std::ostringstream out;
  BuildProgress progress(out, BuildProgress::Mode::kPlain, [] { return kT0; });
  progress.Update(Vertex("sha256:r", "[1/1] RUN false", 0.0, std::nullopt));
  progress.Update(Vertex("sha256:r", "[1/1] RUN false", 0.0, 0.5, false,
                         "process \"/bin/sh -c false\" did not complete successfully: exit code: 1"));
  progress.Finish();
  CHECK(out.str() ==
        "#1 [1/1] RUN false\n"
        "#1 ERROR: process \"/bin/sh -c false\" did not complete successfully: exit code: 1\n");
}

TEST_CASE("BuildProgress tty: live frame with timers and the running step's log tail",
          "[build][progress]") {
  std::ostringstream out;
  absl::Time now = At(1.0);
  {
    BuildProgress progress(out, BuildProgress::Mode::kTty, [&] { return now; });
    auto events = Recorded();
    for (size_t i = 0; i < 8; ++i) progress.Update(events[i]);  // RUN is still running
    progress.Finish();
  }
  const std::string text = out.str();
  CHECK(text.find("[+] Building") != std::string::npos);
  CHECK(text.find(" => [internal] load build definition from Dockerfile") != std::string::npos);
  CHECK(text.find("CACHED") != std::string::npos);
  CHECK(text.find(" => => # hi") != std::string::npos);     // log tail of the running step
  CHECK(text.find(" => => # there") != std::string::npos);
  CHECK(text.find("0.8s") != std::string::npos);            // RUN started at 0.2, now 1.0
  CHECK(text.find("\x1b[2K") != std::string::npos);         // lines are redrawn in place
}

TEST_CASE("BuildProgress rawjson and quiet", "[build][progress]") {
  std::ostringstream json, quiet;
  BuildProgress raw(json, BuildProgress::Mode::kRawJson, [] { return kT0; });
  BuildProgress none(quiet, BuildProgress::Mode::kQuiet, [] { return kT0; });
  for (const BuildEvent& event : Recorded()) {
    raw.Update(event);
    none.Update(event);
  }
  raw.Finish();
  none.Finish();
  CHECK(quiet.str().empty());
  const std::string text = json.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 13);
  CHECK(text.find(R"({"kind":"log","vertex":"sha256:r1","stream":1,"data":"hi\n")") != std::string::npos);
  CHECK(BuildProgress::ModeFor("auto", true) == BuildProgress::Mode::kTty);
  CHECK(BuildProgress::ModeFor("auto", false) == BuildProgress::Mode::kPlain);
  CHECK(BuildProgress::ModeFor("tty", false) == BuildProgress::Mode::kPlain);
}
