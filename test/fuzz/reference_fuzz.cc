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

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

bool StartsWith(const absl::Status& status, std::string_view prefix) {
  std::string message(status.message());
  return message.compare(0, prefix.size(), prefix) == 0;
}

void CheckReference(std::string_view input) {
  absl::StatusOr<kim::ImageReference> ref = kim::ImageReference::ParseNormalized(input);
  if (!ref.ok()) {
    Require(absl::IsInvalidArgument(ref.status()));
    Require(StartsWith(ref.status(), "invalid reference \""));
    Require(!kim::ImageReference::Parse(input).ok());
    return;
  }
  Require(!ref->Domain().empty());
  Require(!ref->Path().empty());
  Require(ref->Name().size() <= 255);
  Require(!ref->HasTag() || kim::IsValidTag(ref->Tag()));

  // The canonical string is canonical, and means the same reference.
  std::string canonical = ref->String();
  absl::StatusOr<kim::ImageReference> strict = kim::ImageReference::Parse(canonical);
  Require(strict.ok() && *strict == *ref);
  absl::StatusOr<kim::ImageReference> renormalized =
      kim::ImageReference::ParseNormalized(canonical);
  Require(renormalized.ok() && *renormalized == *ref);

  // The familiar string the user sees normalises back to the same reference, except for
  // "docker.io/library/<64 hex>", whose familiar form Docker (and kim) refuse as an image ID.
  std::string familiar_string = ref->FamiliarString();
  absl::StatusOr<kim::ImageReference> familiar =
      kim::ImageReference::ParseNormalized(familiar_string);
  if (familiar_string.size() == 64 && kim::IsFullImageId(familiar_string)) {
    Require(!familiar.ok());
  } else {
    Require(familiar.ok() && *familiar == *ref);
  }

  // Strict parsing accepts exactly the canonical spelling.
  Require(kim::ImageReference::Parse(input).ok() == (canonical == input));

  kim::ImageReference tagged = ref->WithDefaultTag();
  Require(tagged.HasTag() || tagged.HasDigest());
  Require(tagged.NameOnly() == ref->NameOnly());
}

void CheckDigest(std::string_view input) {
  absl::StatusOr<kim::Digest> digest = kim::Digest::Parse(input);
  absl::Status validated = kim::Digest::Validate(input);
  Require(digest.ok() == validated.ok());
  if (!digest.ok()) {
    Require(absl::IsInvalidArgument(digest.status()));
    Require(StartsWith(digest.status(), "invalid digest \""));
    return;
  }
  Require(digest->String() == input);
  Require(digest->ShortId().size() == 12);
  if (digest->Algorithm() == kim::Digest::kSha256) Require(kim::IsFullImageId(input));
}

void CheckImageId(std::string_view input) {
  if (kim::IsFullImageId(input)) Require(kim::IsImageIdPrefix(input));
  if (kim::IsImageIdPrefix(input)) Require(kim::ShortImageId(input).size() <= 12);
}

void CheckPlatform(std::string_view input) {
  absl::StatusOr<kim::Platform> platform = kim::ParsePlatform(input);
  if (!platform.ok()) {
    Require(absl::IsInvalidArgument(platform.status()));
    return;
  }
  Require(!platform->os.empty() && !platform->architecture.empty());
  Require(kim::NormalizePlatform(*platform) == *platform);
  Require(platform->Matches(*platform));
  absl::StatusOr<kim::Platform> again = kim::ParsePlatform(platform->String());
  Require(again.ok() && *again == *platform);
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
