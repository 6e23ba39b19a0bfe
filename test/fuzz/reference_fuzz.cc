// libFuzzer target for the parsers of user-typed names: image references, digests and platform
// specifiers. Beyond "does not crash", it checks the invariants callers rely on, and aborts when
// one breaks so the fuzzer records the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "kim/digest.h"
#include "kim/platform.h"
#include "kim/reference.h"

#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

namespace {

bool StartsWith(const absl::Status& status, std::string_view prefix) {
  std::string message(status.message());
  return message.compare(0, prefix.size(), prefix) == 0;
}

void CheckReference(std::string_view input) {
  absl::StatusOr<kim::ImageReference> ref = kim::ImageReference::ParseNormalized(input);
  if (!ref.ok()) {
    Require(absl::IsInvalidArgument(ref.status()), "check at line 29");
    Require(StartsWith(ref.status(), "invalid reference \""), "check at line 30");
    Require(!kim::ImageReference::Parse(input).ok(), "check at line 31");
    return;
  }
  Require(!ref->Domain().empty(), "check at line 34");
  Require(!ref->Path().empty(), "check at line 35");
  Require(ref->Name().size() <= 255, "check at line 36");
  Require(!ref->HasTag() || kim::IsValidTag(ref->Tag()), "check at line 37");

  // The canonical string is canonical, and means the same reference.
  std::string canonical = ref->String();
  absl::StatusOr<kim::ImageReference> strict = kim::ImageReference::Parse(canonical);
  Require(strict.ok() && *strict == *ref, "check at line 42");
  absl::StatusOr<kim::ImageReference> renormalized =
      kim::ImageReference::ParseNormalized(canonical);
  Require(renormalized.ok() && *renormalized == *ref, "check at line 45");

  // The familiar string the user sees normalises back to the same reference, except for
  // "docker.io/library/<64 hex>", whose familiar form Docker (and kim) refuse as an image ID.
  std::string familiar_string = ref->FamiliarString();
  absl::StatusOr<kim::ImageReference> familiar =
      kim::ImageReference::ParseNormalized(familiar_string);
  if (familiar_string.size() == 64 && kim::IsFullImageId(familiar_string)) {
    Require(!familiar.ok(), "check at line 53");
  } else {
    Require(familiar.ok() && *familiar == *ref, "check at line 55");
  }

  // Strict parsing accepts exactly the canonical spelling.
  Require(kim::ImageReference::Parse(input).ok() == (canonical == input), "check at line 59");

  kim::ImageReference tagged = ref->WithDefaultTag();
  Require(tagged.HasTag() || tagged.HasDigest(), "check at line 62");
  Require(tagged.NameOnly() == ref->NameOnly(), "check at line 63");
}

void CheckDigest(std::string_view input) {
  absl::StatusOr<kim::Digest> digest = kim::Digest::Parse(input);
  absl::Status validated = kim::Digest::Validate(input);
  Require(digest.ok() == validated.ok(), "check at line 69");
  if (!digest.ok()) {
    Require(absl::IsInvalidArgument(digest.status()), "check at line 71");
    Require(StartsWith(digest.status(), "invalid digest \""), "check at line 72");
    return;
  }
  Require(digest->String() == input, "check at line 75");
  Require(digest->ShortId().size() == 12, "check at line 76");
  if (digest->Algorithm() == kim::Digest::kSha256) Require(kim::IsFullImageId(input), "check at line 77");
}

void CheckImageId(std::string_view input) {
  if (kim::IsFullImageId(input)) Require(kim::IsImageIdPrefix(input), "check at line 81");
  if (kim::IsImageIdPrefix(input)) Require(kim::ShortImageId(input).size() <= 12, "check at line 82");
}

void CheckPlatform(std::string_view input) {
  absl::StatusOr<kim::Platform> platform = kim::ParsePlatform(input);
  if (!platform.ok()) {
    Require(absl::IsInvalidArgument(platform.status()), "check at line 88");
    return;
  }
  Require(!platform->os.empty() && !platform->architecture.empty(), "check at line 91");
  Require(kim::NormalizePlatform(*platform) == *platform, "check at line 92");
  Require(platform->Matches(*platform), "check at line 93");
  absl::StatusOr<kim::Platform> again = kim::ParsePlatform(platform->String());
  Require(again.ok() && *again == *platform, "check at line 95");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckReference(input);
  CheckDigest(input);
  CheckImageId(input);
  CheckPlatform(input);
  return 0;
}
