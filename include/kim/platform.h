// Target platforms ("linux/amd64", "linux/arm/v7") parsed and normalised like containerd's
// platforms package, so that `--platform` values and image index entries compare the way
// Docker, BuildKit and containerd compare them.
//
// Error messages are containerd's: they quote the specifier and end in "invalid argument",
// e.g. `"foo/bar": unknown operating system or architecture: invalid argument` or `"" is an
// invalid component of "": platform specifier component must match "^[A-Za-z0-9_-]+$": invalid
// argument`. Every error is absl::InvalidArgumentError.
#ifndef KIM_PLATFORM_H_
#define KIM_PLATFORM_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kim {

// An OCI platform: operating system, CPU architecture and optional architecture variant, with
// the OCI/Go names ("linux", "amd64", "arm64", "arm" + "v7"). Plain value type.
struct Platform {
  std::string os;            // e.g. "linux", "windows", "darwin".
  std::string architecture;  // e.g. "amd64", "arm64", "arm", "386", "s390x".
  std::string variant;       // e.g. "v7" for arm; empty when the architecture has no variants.

  // "os/architecture" or "os/architecture/variant", e.g. "linux/arm/v7".
  std::string String() const;

  // True when both sides name the same platform once normalised (see NormalizePlatform):
  // "linux/arm64" matches "linux/arm64/v8", "linux/arm" matches "linux/arm/v7", but
  // "linux/arm/v6" does not match "linux/arm/v7". Symmetric.
  bool Matches(const Platform& other) const;

  // Field-by-field equality, without normalisation; use Matches to compare platforms that may
  // come from different sources.
  friend bool operator==(const Platform& a, const Platform& b) = default;
};

// Parses a platform specifier the way containerd does, then normalises it:
//   "linux/amd64", "linux/arm/v7", "linux/arm64/v8" (becomes "linux/arm64");
//   a single operating system, "linux", gets the host's architecture;
//   a single architecture, "arm64", gets the operating system "linux".
// Accepted aliases: x86_64 and x86-64 (amd64), aarch64 (arm64), armhf (arm/v7), armel (arm/v6),
// i386 (386), macos (darwin); names are case-insensitive. Unlike containerd, which accepts any
// os/arch pair, kim refuses an operating system or architecture that Go does not know, since no
// image can be built or run for it.
absl::StatusOr<Platform> ParsePlatform(std::string_view specifier);

// The canonical spelling of `platform`: lowercase names, aliases resolved, and the default
// variant made explicit or dropped the way containerd stores it ("arm" always carries a variant,
// "v7" by default; "arm64/v8" and "amd64/v1" drop theirs).
Platform NormalizePlatform(Platform platform);

// The platform this process runs on: "linux" and the architecture kim was compiled for (or,
// failing that, the kernel's uname machine), normalised.
Platform HostPlatform();

}  // namespace kim

#endif  // KIM_PLATFORM_H_
