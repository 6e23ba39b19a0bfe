// libFuzzer target for the parsers of files and values kim reads from the user's machine: Docker
// config.json (auths, credential helpers), the "auth" base64 field, and human sizes. Beyond "does
// not crash": a config that parses serializes to one that parses again to the same credentials.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "kim/credentials.h"
#include "kim/units.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto config = kim::DockerConfig::Parse(input, "fuzz.json");
  if (config.ok()) {
    auto again = kim::DockerConfig::Parse(config->Serialize(), "fuzz-again.json");
    Require(again.ok(), "a serialized config parses again");
    // No helper is configured for this made-up host unless the input says so; when none is,
    // the credentials must survive the round trip.
    if (config->CredentialHelperFor("kim-fuzz.example:5000").empty()) {
      auto before = config->CredentialsFor("kim-fuzz.example:5000");
      auto after = again->CredentialsFor("kim-fuzz.example:5000");
      Require(before.ok() == after.ok(), "credentials survive the round trip");
      if (before.ok()) {
        Require(before->username == after->username && before->password == after->password,
                "the same credentials after the round trip");
      }
    }
  } else {
    Require(!config.status().message().empty(), "errors have a message");
  }
  (void)kim::DecodeAuth(input);
  auto bytes = kim::ParseSize(input);
  if (bytes.ok()) Require(*bytes >= 0, "sizes are not negative");
  return 0;
}
