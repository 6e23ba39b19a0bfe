// Human-readable sizes and durations, formatted exactly like the Docker CLI (go-units), and the
// reverse: parsing sizes given on the command line ("64m", "1.5GB").
#ifndef KIM_UNITS_H_
#define KIM_UNITS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kim {

// Formats `bytes` with `precision` significant digits (C/Go "%.*g") and a decimal unit
// (B, kB, MB, GB, TB, PB, EB, ZB, YB; base 1000), like go-units' HumanSizeWithPrecision. Rounding
// quirks are kept on purpose: 999500 bytes with precision 3 prints "1e+03kB", as `docker` does.
// Negative sizes are not scaled ("-5000B"); a negative precision means the default of 6.
std::string HumanSizeWithPrecision(double bytes, int precision);

// HumanSizeWithPrecision(bytes, 4), like go-units' HumanSize ("1.235MB"). The Docker CLI's
// `images` SIZE column uses precision 3 instead ("56.5MB", "327kB", "5B").
std::string HumanSize(double bytes);

// Formats `bytes` with 4 significant digits and a binary unit (B, KiB, MiB, GiB, ...; base 1024),
// like go-units' BytesSize. Used for transfer progress ("1.5MiB").
std::string BytesSize(double bytes);

// Describes a duration the way `docker ps` / `docker images` do ("Less than a second",
// "About a minute", "3 hours", "2 weeks", ...), with go-units' HumanDuration thresholds.
// Negative durations read "Less than a second"; infinite ones saturate to a very large count.
std::string HumanDuration(absl::Duration d);

// HumanDuration(now - then) + " ago" ("5 minutes ago"). A `then` in the future reads
// "Less than a second ago", as in Docker; an infinite `then` reads "N/A".
std::string TimeAgo(absl::Time then, absl::Time now);

// Parses a size flag the way Docker parses --memory or --shm-size (go-units RAMInBytes): a
// non-negative number, an optional space, and an optional case-insensitive unit b, k, m, g, t, p,
// optionally followed by "b" or "ib"; units are powers of 1024 ("64m" = 67108864,
// "1.5GB" = 1610612736). Fractions of a byte are truncated. Returns InvalidArgument
// ("invalid size: '...'", "invalid suffix: '...'") on malformed input and OutOfRange when the
// value does not fit in int64.
absl::StatusOr<int64_t> ParseSize(std::string_view text);

// Like ParseSize, but units are powers of 1000 (go-units FromHumanSize: "44kB" = 44000).
absl::StatusOr<int64_t> ParseDecimalSize(std::string_view text);

}  // namespace kim

#endif  // KIM_UNITS_H_
