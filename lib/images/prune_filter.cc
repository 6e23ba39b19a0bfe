// Docker's prune filters for images.
#include "lib/images/prune_filter.h"

#include <algorithm>

#include <cpprest/json.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kim {

absl::StatusOr<absl::Time> ParseUntil(std::string_view value, absl::Time now) {
  const std::string text(value);
  absl::Duration duration;
  if (absl::ParseDuration(text, &duration)) return now - duration;
  // Unix seconds with an optional fraction, kept exact (no detour through a double).
  const size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  int64_t seconds = 0, nanos = 0;
  if (!whole.empty() && whole.find_first_not_of("0123456789") == std::string::npos &&
      fraction.size() <= 9 && fraction.find_first_not_of("0123456789") == std::string::npos &&
      absl::SimpleAtoi(whole, &seconds) &&
      (fraction.empty() || absl::SimpleAtoi(fraction + std::string(9 - fraction.size(), '0'), &nanos))) {
    return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
  }
  absl::Time time;
  std::string error;
  for (const char* layout : {absl::RFC3339_full, "%Y-%m-%dT%H:%M:%E*S", "%Y-%m-%d"}) {
    if (absl::ParseTime(layout, text, absl::UTCTimeZone(), &time, &error)) return time;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "failed to parse value \"", text,
      "\" of filter until: use a duration (24h, 90m) or a timestamp (2006-01-02T15:04:05Z, "
      "2006-01-02 or Unix seconds)"));
}

absl::StatusOr<PruneFilter> PruneFilter::Parse(const std::vector<std::string>& filters,
                                               absl::Time now) {
  PruneFilter parsed;
  for (const std::string& filter : filters) {
    const size_t eq = filter.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad format of filter (expected name=value): ", filter));
    }
    const std::string key = filter.substr(0, eq);
    const std::string value = filter.substr(eq + 1);
    if (key == "until") {
      auto until = ParseUntil(value, now);
      if (!until.ok()) return until.status();
      // Several until= filters: an image must be older than each, so the earliest wins.
      parsed.until_ = parsed.until_ ? std::min(*parsed.until_, *until) : *until;
    } else if (key == "label" || key == "label!") {
      if (value.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("invalid filter '", filter, "'"));
      }
      LabelTest test{.negated = key == "label!"};
      if (const size_t at = value.find('='); at != std::string::npos) {
        test.key = value.substr(0, at);
        test.value = value.substr(at + 1);
      } else {
        test.key = value;
      }
      parsed.labels_.push_back(std::move(test));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid filter '", key, "' (image prune takes until=, label= and label!=)"));
    }
  }
  return parsed;
}

bool PruneFilter::Matches(absl::Time created,
                          const std::map<std::string, std::string>& labels) const {
  if (until_ && !(created != absl::InfinitePast() && created < *until_)) return false;
  for (const LabelTest& test : labels_) {
    auto it = labels.find(test.key);
    const bool has = it != labels.end() && (!test.value || it->second == *test.value);
    if (has == test.negated) return false;
  }
  return true;
}

std::map<std::string, std::string> ImageConfigLabels(std::string_view config_json) {
  std::map<std::string, std::string> labels;
  std::error_code error;
  const web::json::value config = web::json::value::parse(std::string(config_json), error);
  if (error || !config.is_object() || !config.has_field("config")) return labels;
  const web::json::value& inner = config.at("config");
  if (!inner.is_object() || !inner.has_field("Labels") || !inner.at("Labels").is_object()) {
    return labels;
  }
  for (const auto& [key, value] : inner.at("Labels").as_object()) {
    if (value.is_string()) labels[key] = value.as_string();
  }
  return labels;
}

}  // namespace kim
