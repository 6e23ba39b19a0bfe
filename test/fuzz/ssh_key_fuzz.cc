// Fuzz target for `--ssh id=key-file` private keys: OpenSSH "openssh-key-v1" (its own wire
// format, parsed by kim) and PEM (through OpenSSL). Beyond "does not crash": a key that loads has
// a public blob that starts with its own key type, and a refusal is FailedPrecondition (a
// passphrase) or InvalidArgument naming the file.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "lib/build/ssh_key_file.h"
#include "lib/build/ssh_wire.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto key = kim::build::ParseSshKey(text, "fuzz-key");
  if (!key.ok()) {
    Require(absl::IsInvalidArgument(key.status()) || absl::IsFailedPrecondition(key.status()),
            "errors are InvalidArgument or FailedPrecondition");
    Require(absl::StrContains(key.status().message(), "fuzz-key"), "errors name the file");
    return 0;
  }
  kim::build::WireReader blob((*key)->blob);
  absl::string_view type;
  Require(blob.String(&type) && type == (*key)->key_type, "the blob starts with the key type");
  Require((*key)->pkey != nullptr, "a key has its OpenSSL key");
  return 0;
}
