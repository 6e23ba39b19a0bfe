// Platform specifiers, normalised with containerd's rules (platforms.Parse and normalizeArch).
#include "kim/platform.h"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>

#include "absl/status/status.h"

namespace kim {
namespace {

// Go's list of GOOS values (go/build/syslist.go), which is what containerd calls "known".
constexpr std::array<std::string_view, 17> kKnownOs = {
    "aix",  "android", "darwin",  "dragonfly", "freebsd", "hurd",    "illumos", "ios",     "js",
    "linux", "nacl",   "netbsd",  "openbsd",   "plan9",   "solaris", "windows", "zos"};

// Go's list of GOARCH values.
constexpr std::array<std::string_view, 24> kKnownArch = {
    "386",     "amd64",    "amd64p32", "arm",         "armbe",  "arm64",   "arm64be", "loong64",
    "mips",    "mipsle",   "mips64",   "mips64le",    "mips64p32", "mips64p32le", "ppc", "ppc64",
    "ppc64le", "riscv",    "riscv64",  "s390",        "s390x",  "sparc",   "sparc64", "wasm"};

bool IsKnownOs(std::string_view os) {
  return std::find(kKnownOs.begin(), kKnownOs.end(), os) != kKnownOs.end();
}

bool IsKnownArch(std::string_view arch) {
  return std::find(kKnownArch.begin(), kKnownArch.end(), arch) != kKnownArch.end();
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string NormalizeOs(std::string_view os) {
  std::string out = AsciiLower(os);
  if (out == "macos") out = "darwin";
  return out;
}

// containerd's normalizeArch, plus the uname spellings of 32-bit arm ("armv7l", "armv6l"), and
// with "arm" always carrying its variant.
void NormalizeArch(std::string& arch, std::string& variant) {
  arch = AsciiLower(arch);
  variant = AsciiLower(variant);
  if (arch == "i386") {
    arch = "386";
    variant.clear();
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") variant.clear();
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant == "8" || variant == "v8" || variant == "v8.0") {
      variant.clear();
    } else if (variant == "9" || variant == "9.0" || variant == "v9.0") {
      variant = "v9";
    }
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "armv7l" || arch == "armv7") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armv6l" || arch == "armv6") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm") {
    if (variant.empty() || variant == "7") {
      variant = "v7";
    } else if (variant == "5" || variant == "6" || variant == "8") {
      variant = "v" + variant;
    }
  }
}

// containerd's specifierRe: ^[A-Za-z0-9_-]+$
bool IsSpecifierComponent(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::Status PlatformError(std::string_view specifier, std::string_view reason) {
  return absl::InvalidArgumentError(fmt::format("{:?}: {}: invalid argument", specifier, reason));
}

// The architecture the compiler targeted, or empty when this file does not know the target.
Platform CompiledPlatform() {
#if defined(__x86_64__)
  return {"linux", "amd64", ""};
#elif defined(__aarch64__)
  return {"linux", "arm64", ""};
#elif defined(__arm__) && defined(__ARM_ARCH)
  return {"linux", "arm", "v" + std::to_string(__ARM_ARCH)};
#elif defined(__i386__)
  return {"linux", "386", ""};
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return {"linux", "ppc64le", ""};
#elif defined(__powerpc64__)
  return {"linux", "ppc64", ""};
#elif defined(__s390x__)
  return {"linux", "s390x", ""};
#elif defined(__riscv) && __riscv_xlen == 64
  return {"linux", "riscv64", ""};
#elif defined(__loongarch64)
  return {"linux", "loong64", ""};
#else
  return {"linux", "", ""};
#endif
}

}  // namespace

std::string Platform::String() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

bool Platform::Matches(const Platform& other) const {
  return NormalizePlatform(*this) == NormalizePlatform(other);
}

Platform NormalizePlatform(Platform platform) {
  platform.os = NormalizeOs(platform.os);
  NormalizeArch(platform.architecture, platform.variant);
  return platform;
}

Platform HostPlatform() {
  Platform host = CompiledPlatform();
  if (host.architecture.empty()) {
    struct utsname name;
    if (uname(&name) == 0) host.architecture = name.machine;
  }
  return NormalizePlatform(std::move(host));
}

absl::StatusOr<Platform> ParsePlatform(std::string_view specifier) {
  if (specifier.find('*') != std::string_view::npos) {
    return PlatformError(specifier, "wildcards not yet supported");
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t slash = specifier.find('/', start);
    parts.push_back(specifier.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (std::string_view part : parts) {
    if (!IsSpecifierComponent(part)) {
      return absl::InvalidArgumentError(fmt::format(
          "{:?} is an invalid component of {:?}: platform specifier component must match "
          "\"^[A-Za-z0-9_-]+$\": invalid argument",
          part, specifier));
    }
  }
  Platform p;
  switch (parts.size()) {
    case 1: {
      // An operating system gets the host's architecture; otherwise try it as an architecture.
      std::string os = NormalizeOs(parts[0]);
      if (IsKnownOs(os)) {
        Platform host = HostPlatform();
        return Platform{std::move(os), std::move(host.architecture), std::move(host.variant)};
      }
      p.os = "linux";
      p.architecture = std::string(parts[0]);
      break;
    }
    case 2:
      p.os = std::string(parts[0]);
      p.architecture = std::string(parts[1]);
      break;
    case 3:
      p.os = std::string(parts[0]);
      p.architecture = std::string(parts[1]);
      p.variant = std::string(parts[2]);
      break;
    default:
      return PlatformError(specifier, "cannot parse platform specifier");
  }
  p = NormalizePlatform(std::move(p));
  if (!IsKnownOs(p.os) || !IsKnownArch(p.architecture)) {
    return PlatformError(specifier, "unknown operating system or architecture");
  }
  return p;
}

}  // namespace kim
