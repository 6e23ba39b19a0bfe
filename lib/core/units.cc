// Human sizes and durations with go-units' exact rules, so kim's tables read like Docker's.
#include "kim/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kim {
namespace {

// Debian's Abseil has its own string_view type; this bridges from the standard one.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr const char* kDecimalUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
constexpr const char* kBinaryUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
constexpr int kUnitCount = 9;

// Go's %g prints infinities and NaN as "+Inf", "-Inf" and "NaN"; C would print "inf" and "nan".
std::string FormatG(double value, int precision) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g", precision, value);
  return buf;
}

// Scales `size` down by `base` until it is below it or the units run out (go-units'
// getSizeAndUnit), then formats it with `precision` significant digits.
std::string ScaledSize(double size, double base, const char* const* units, int precision) {
  int i = 0;
  while (size >= base && i < kUnitCount - 1) {
    size /= base;
    ++i;
  }
  return absl::StrCat(FormatG(size, precision), units[i]);
}

// True when `s` is a decimal floating-point literal as Go's strconv.ParseFloat accepts it
// (hexadecimal, "inf" and "nan" forms excepted, which no size flag needs).
bool IsDecimalNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// go-units' parseSize: "<number>[ ]<unit>", where the unit's first letter picks a power of `base`.
absl::StatusOr<int64_t> ParseSizeWithBase(std::string_view text, double base) {
  auto invalid_size = [&] {
    return absl::InvalidArgumentError(absl::StrCat("invalid size: '", Sv(text), "'"));
  };
  size_t sep = text.find_last_of("0123456789. ");
  if (sep == std::string_view::npos) return invalid_size();
  std::string_view num = text[sep] == ' ' ? text.substr(0, sep) : text.substr(0, sep + 1);
  std::string suffix(text.substr(sep + 1));

  if (!IsDecimalNumber(num)) return invalid_size();
  double size = std::strtod(std::string(num).c_str(), nullptr);
  if (std::isinf(size)) {
    return absl::OutOfRangeError(absl::StrCat("size out of range: '", Sv(text), "'"));
  }
  if (size < 0) return invalid_size();

  if (!suffix.empty()) {
    auto bad_suffix = [&] {
      return absl::InvalidArgumentError(absl::StrCat("invalid suffix: '", suffix, "'"));
    };
    if (suffix.size() > 3) return bad_suffix();  // Reported as typed, before lowercasing.
    for (char& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (suffix[0] == 'b') {
      if (suffix.size() > 1) return bad_suffix();
    } else {
      static constexpr std::string_view kUnitLetters = "kmgtp";
      size_t power = kUnitLetters.find(suffix[0]);
      if (power == std::string_view::npos) return bad_suffix();
      if (suffix.size() == 2 && suffix[1] != 'b') return bad_suffix();
      if (suffix.size() == 3 && suffix.substr(1) != "ib") return bad_suffix();
      size *= std::pow(base, static_cast<double>(power + 1));
    }
  }
  // 2^63 is the first double that no longer fits in int64.
  if (!(size < 9223372036854775808.0)) {
    return absl::OutOfRangeError(absl::StrCat("size out of range: '", Sv(text), "'"));
  }
  return static_cast<int64_t>(size);
}

}  // namespace

std::string HumanSizeWithPrecision(double bytes, int precision) {
  return ScaledSize(bytes, 1000.0, kDecimalUnits, precision);
}

std::string HumanSize(double bytes) { return HumanSizeWithPrecision(bytes, 4); }

std::string BytesSize(double bytes) { return ScaledSize(bytes, 1024.0, kBinaryUnits, 4); }

std::string HumanDuration(absl::Duration d) {
  const int64_t seconds = absl::ToInt64Seconds(d);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return absl::StrCat(seconds, " seconds");
  const int64_t minutes = absl::ToInt64Minutes(d);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return absl::StrCat(minutes, " minutes");
  // Hours round to nearest (go-units adds 0.5 before truncating); saturate instead of overflowing.
  const double rounded = absl::ToDoubleHours(d) + 0.5;
  const int64_t hours = rounded >= 9.2e18 ? std::numeric_limits<int64_t>::max()
                                          : static_cast<int64_t>(rounded);
  if (hours == 1) return "About an hour";
  if (hours < 48) return absl::StrCat(hours, " hours");
  if (hours < 24 * 7 * 2) return absl::StrCat(hours / 24, " days");
  if (hours < 24 * 30 * 2) return absl::StrCat(hours / 24 / 7, " weeks");
  if (hours < 24 * 365 * 2) return absl::StrCat(hours / 24 / 30, " months");
  // Years use the unrounded hour count, as go-units does.
  return absl::StrCat(absl::ToInt64Hours(d) / 24 / 365, " years");
}

std::string TimeAgo(absl::Time then, absl::Time now) {
  if (then == absl::InfinitePast() || then == absl::InfiniteFuture()) return "N/A";
  return absl::StrCat(HumanDuration(now - then), " ago");
}

absl::StatusOr<int64_t> ParseSize(std::string_view text) { return ParseSizeWithBase(text, 1024.0); }

absl::StatusOr<int64_t> ParseDecimalSize(std::string_view text) {
  return ParseSizeWithBase(text, 1000.0);
}

}  // namespace kim
