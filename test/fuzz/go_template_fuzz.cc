// libFuzzer target for `kim inspect` / `kim history` input: a --format template (the first line)
// and an image config (the rest), both outside input. Beyond "does not crash": a template either
// parses or fails with Go's "template: " prefix, runs or fails the same way, and every JSON kim
// writes (inspect arrays, the `json` function) parses back.
#include <cpprest/json.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "apps/kim/output/go_json.h"
#include "apps/kim/output/go_template.h"
#include "apps/kim/output/history_rows.h"
#include "apps/kim/output/image_inspect.h"

#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

namespace {

bool HasPrefix(const absl::Status& status, absl::string_view prefix) {
  return absl::StartsWith(status.message(), prefix);
}

// cpprestsdk's parser recurses per nesting level: keep the fuzzer's documents shallow.
bool Shallow(std::string_view text) {
  int depth = 0;
  for (char c : text) {
    if (c == '[' || c == '{') ++depth;
    if (depth > 64) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string format(input.substr(0, newline));
  const std::string config(newline == std::string_view::npos ? "" : input.substr(newline + 1));
  if (!Shallow(config)) return 0;

  kim::ImageDetails details;
  details.image.id = "sha256:" + std::string(64, 'a');
  details.image.repo_tags = {"docker.io/library/app:1"};
  details.config_json = config;
  details.layers = {{.digest = "sha256:l", .size = 10, .diff_id = "sha256:d"}};

  auto parsed = kim::cli::GoTemplate::Parse(format);
  if (!parsed.ok()) Require(absl::IsInvalidArgument(parsed.status()) &&
                            HasPrefix(parsed.status(), "template: :"), "parse errors are Go's");
  auto object = kim::cli::InspectObject(details);
  if (object.ok()) {
    std::error_code error;
    web::json::value::parse(kim::cli::InspectArray({*object}), error);
    Require(!error, "the inspect array is JSON");
    if (parsed.ok()) {
      auto out = parsed->Execute(*object);
      if (!out.ok()) Require(HasPrefix(out.status(), "template: :"), "execution errors are Go's");
    }
    web::json::value::parse(kim::cli::GoJson(*object), error);
    Require(!error, "the json function writes JSON");
  }
  std::ostringstream history;
  const auto status = kim::cli::WriteHistory(kim::cli::HistoryRows(details),
                                             {.format = format}, absl::UnixEpoch(), history);
  if (!status.ok()) Require(HasPrefix(status, "template: :"), "history errors are Go's");
  return 0;
}
