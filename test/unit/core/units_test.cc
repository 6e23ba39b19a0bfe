// Tests for kim/units.h: sizes and durations must read exactly like the Docker CLI's (go-units).
#include "kim/units.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace kim {
namespace {

struct SizeCase {
  double bytes;
  std::string want;
};

TEST_CASE("HumanSizeWithPrecision(3) matches docker images' SIZE column", "[units]") {
  const std::vector<SizeCase> cases = {
      {0, "0B"},
      {5, "5B"},
      {999, "999B"},
      {1000, "1kB"},
      {1024, "1.02kB"},
      {327000, "327kB"},
      {56500000, "56.5MB"},
      {1230000000, "1.23GB"},
      {1234567, "1.23MB"},
      // 999.5 kB rounds up to 3 significant digits and so switches to exponent form in Go and C.
      {999500, "1e+03kB"},
      {999499, "999kB"},
      {999999999, "1e+03MB"},
      {1e24, "1YB"},
      {1e27, "1e+03YB"},
      // go-units does not scale negative sizes.
      {-5000, "-5e+03B"},
      {-5, "-5B"},
      {0.5, "0.5B"},
  };
  for (const SizeCase& c : cases) {
    INFO("bytes = " << c.bytes);
    CHECK(HumanSizeWithPrecision(c.bytes, 3) == c.want);
  }
}

TEST_CASE("HumanSizeWithPrecision rounds exact ties to even like Go", "[units]") {
  CHECK(HumanSizeWithPrecision(1250, 2) == "1.2kB");
  CHECK(HumanSizeWithPrecision(1350, 2) == "1.4kB");
  CHECK(HumanSizeWithPrecision(1500, 1) == "2kB");
  CHECK(HumanSizeWithPrecision(2500, 1) == "2kB");
  CHECK(HumanSizeWithPrecision(123456, 6) == "123.456kB");
  CHECK(HumanSizeWithPrecision(1000, 0) == "1kB");
}

TEST_CASE("HumanSize uses four significant digits like go-units", "[units]") {
  const std::vector<SizeCase> cases = {
      {1000, "1kB"},
      {1024, "1.024kB"},
      {1000000, "1MB"},
      {1048576, "1.049MB"},
      {2e6, "2MB"},
      {3.42e9, "3.42GB"},
      {5.372e12, "5.372TB"},
      {2.22e15, "2.22PB"},
      {1e21, "1ZB"},
      {1e28, "1e+04YB"},
      {1234567, "1.235MB"},
      {10, "10B"},
  };
  for (const SizeCase& c : cases) {
    INFO("bytes = " << c.bytes);
    CHECK(HumanSize(c.bytes) == c.want);
  }
}

TEST_CASE("Sizes print infinities and NaN the way Go does", "[units]") {
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(HumanSize(inf) == "+InfYB");
  CHECK(HumanSize(-inf) == "-InfB");
  CHECK(HumanSize(std::nan("")) == "NaNB");
  CHECK(BytesSize(inf) == "+InfYiB");
}

TEST_CASE("BytesSize uses binary units", "[units]") {
  const double kib = 1024, mib = kib * 1024, gib = mib * 1024, tib = gib * 1024,
               pib = tib * 1024, zib = pib * 1024 * 1024;
  const std::vector<SizeCase> cases = {
      {0, "0B"},
      {1023, "1023B"},
      {kib, "1KiB"},
      {1536, "1.5KiB"},
      {mib, "1MiB"},
      {2 * mib, "2MiB"},
      {3.42 * gib, "3.42GiB"},
      {5.372 * tib, "5.372TiB"},
      {2.22 * pib, "2.22PiB"},
      {1.049 * zib, "1.049ZiB"},
      {1000, "1000B"},
  };
  for (const SizeCase& c : cases) {
    INFO("bytes = " << c.bytes);
    CHECK(BytesSize(c.bytes) == c.want);
  }
}

struct DurationCase {
  absl::Duration d;
  std::string want;
};

TEST_CASE("HumanDuration follows go-units' thresholds", "[units]") {
  const absl::Duration day = absl::Hours(24);
  const std::vector<DurationCase> cases = {
      {absl::ZeroDuration(), "Less than a second"},
      {absl::Milliseconds(999), "Less than a second"},
      {absl::Seconds(-5), "Less than a second"},
      {absl::Seconds(1), "1 second"},
      {absl::Milliseconds(1999), "1 second"},
      {absl::Seconds(2), "2 seconds"},
      {absl::Seconds(59), "59 seconds"},
      {absl::Seconds(60), "About a minute"},
      {absl::Seconds(119), "About a minute"},
      {absl::Minutes(2), "2 minutes"},
      {absl::Minutes(59), "59 minutes"},
      {absl::Minutes(60), "About an hour"},
      {absl::Minutes(89), "About an hour"},
      {absl::Minutes(90), "2 hours"},
      {absl::Hours(2), "2 hours"},
      {absl::Hours(47), "47 hours"},
      {absl::Hours(47) + absl::Minutes(29), "47 hours"},
      {absl::Hours(47) + absl::Minutes(30), "2 days"},
      {absl::Hours(48), "2 days"},
      {13 * day, "13 days"},
      {14 * day, "2 weeks"},
      {3 * 7 * day, "3 weeks"},
      {59 * day, "8 weeks"},
      {60 * day, "2 months"},
      {365 * day, "12 months"},
      {729 * day, "24 months"},
      {730 * day, "2 years"},
      {3650 * day, "10 years"},
  };
  for (const DurationCase& c : cases) {
    INFO("duration = " << absl::FormatDuration(c.d));
    CHECK(HumanDuration(c.d) == c.want);
  }
}

TEST_CASE("HumanDuration saturates on an infinite duration", "[units]") {
  std::string text = HumanDuration(absl::InfiniteDuration());
  CHECK(text.size() > 6);
  CHECK(text.substr(text.size() - 6) == " years");
  CHECK(HumanDuration(-absl::InfiniteDuration()) == "Less than a second");
}

TEST_CASE("TimeAgo appends ago and copes with the future", "[units]") {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  CHECK(TimeAgo(now - absl::Minutes(5), now) == "5 minutes ago");
  CHECK(TimeAgo(now - absl::Hours(3), now) == "3 hours ago");
  CHECK(TimeAgo(now - absl::Hours(24 * 20), now) == "2 weeks ago");
  CHECK(TimeAgo(now, now) == "Less than a second ago");
  CHECK(TimeAgo(now + absl::Hours(1), now) == "Less than a second ago");
  CHECK(TimeAgo(absl::InfinitePast(), now) == "N/A");
  CHECK(TimeAgo(absl::InfiniteFuture(), now) == "N/A");
}

struct ParseCase {
  std::string text;
  int64_t want;
};

TEST_CASE("ParseSize accepts RAMInBytes' forms with binary units", "[units]") {
  const int64_t k = 1024, m = k * 1024, g = m * 1024, t = g * 1024, p = t * 1024;
  const std::vector<ParseCase> cases = {
      {"32", 32},
      {"32b", 32},
      {"32B", 32},
      {"32k", 32 * k},
      {"32K", 32 * k},
      {"32kb", 32 * k},
      {"32Kb", 32 * k},
      {"32Kib", 32 * k},
      {"32KIB", 32 * k},
      {"32Mb", 32 * m},
      {"32Gb", 32 * g},
      {"32Tb", 32 * t},
      {"32Pb", 32 * p},
      {"32PB", 32 * p},
      {"32P", 32 * p},
      {"32 mb", 32 * m},
      {"64m", 64 * m},
      {"512k", 512 * k},
      {"1.5GB", 1610612736},
      {"0.3MB", 314572},
      {"32.3", 32},
      {"1e3", 1000},
      {"+5k", 5 * k},
      {"0", 0},
      {"8191p", 8191 * p},
  };
  for (const ParseCase& c : cases) {
    INFO("text = '" << c.text << "'");
    absl::StatusOr<int64_t> got = ParseSize(c.text);
    REQUIRE(got.ok());
    CHECK(*got == c.want);
  }
}

TEST_CASE("ParseDecimalSize uses powers of 1000", "[units]") {
  const std::vector<ParseCase> cases = {
      {"44kB", 44000},     {"17MB", 17000000},          {"1.5GB", 1500000000},
      {"32", 32},          {"512k", 512000},            {"3 PB", 3000000000000000},
      {"2t", 2000000000000}, {"7b", 7},
  };
  for (const ParseCase& c : cases) {
    INFO("text = '" << c.text << "'");
    absl::StatusOr<int64_t> got = ParseDecimalSize(c.text);
    REQUIRE(got.ok());
    CHECK(*got == c.want);
  }
}

struct BadParseCase {
  std::string text;
  absl::StatusCode code;
  std::string message;
};

TEST_CASE("ParseSize rejects malformed, negative and huge sizes", "[units]") {
  const auto invalid = absl::StatusCode::kInvalidArgument;
  const auto range = absl::StatusCode::kOutOfRange;
  const std::vector<BadParseCase> cases = {
      {"", invalid, "invalid size: ''"},
      {"hello", invalid, "invalid size: 'hello'"},
      {"k", invalid, "invalid size: 'k'"},
      {"-32", invalid, "invalid size: '-32'"},
      {"-1k", invalid, "invalid size: '-1k'"},
      {" 32 ", invalid, "invalid size: ' 32 '"},
      {"32m b", invalid, "invalid size: '32m b'"},
      {"1.5.5", invalid, "invalid size: '1.5.5'"},
      {".", invalid, "invalid size: '.'"},
      {"0x10", invalid, "invalid size: '0x10'"},
      {"32bm", invalid, "invalid suffix: 'bm'"},
      {"32kbb", invalid, "invalid suffix: 'kbb'"},
      {"32.3Kibb", invalid, "invalid suffix: 'Kibb'"},
      {"32kx", invalid, "invalid suffix: 'kx'"},
      {"32kab", invalid, "invalid suffix: 'kab'"},
      {"8EiB", invalid, "invalid suffix: 'eib'"},
      {"1e400", range, "size out of range: '1e400'"},
      {"9223372036854775807", range, "size out of range: '9223372036854775807'"},
      {"8192p", range, "size out of range: '8192p'"},
  };
  for (const BadParseCase& c : cases) {
    INFO("text = '" << c.text << "'");
    absl::StatusOr<int64_t> got = ParseSize(c.text);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == c.code);
    CHECK(std::string(got.status().message()) == c.message);
  }
}

}  // namespace
}  // namespace kim
