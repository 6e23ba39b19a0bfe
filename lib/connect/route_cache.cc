// The route cache file: a JSON object of key -> {"route", "host", "checked" (Unix seconds)}.
#include "lib/connect/route_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <cpprest/json.h>

#include "absl/strings/str_cat.h"
#include "kim/log.h"

namespace kim {
namespace {

using Json = web::json::value;

Json ReadAll(const std::string& path) {
  std::ifstream file(path);
  if (!file) return Json::object();
  std::stringstream text;
  text << file.rdbuf();
  try {
    Json parsed = Json::parse(text.str());
    if (parsed.is_object()) return parsed;
  } catch (const std::exception& e) {
    LogDebug(0, absl::StrCat("ignoring the damaged route cache ", path, ": ", e.what()));
  }
  return Json::object();
}

}  // namespace

std::string RouteCachePath() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && *xdg != '\0') return absl::StrCat(xdg, "/kim/routes.json");
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return absl::StrCat(home, "/.cache/kim/routes.json");
  return "";
}

std::optional<CachedRoute> ReadCachedRoute(const std::string& key) {
  const std::string path = RouteCachePath();
  if (path.empty()) return std::nullopt;
  Json all = ReadAll(path);
  if (!all.has_field(key) || !all.at(key).is_object()) return std::nullopt;
  const Json& entry = all.at(key);
  CachedRoute route;
  if (entry.has_string_field("route")) route.route = entry.at("route").as_string();
  if (entry.has_string_field("host")) route.host = entry.at("host").as_string();
  if (entry.has_number_field("checked")) {
    route.checked = absl::FromUnixSeconds(entry.at("checked").as_number().to_int64());
  }
  if (route.route != "direct" && route.route != "tunnel") return std::nullopt;
  return route;
}

void WriteCachedRoute(const std::string& key, const CachedRoute& route) {
  const std::string path = RouteCachePath();
  if (path.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  Json all = ReadAll(path);
  Json entry = Json::object();
  entry["route"] = Json::string(route.route);
  entry["host"] = Json::string(route.host);
  entry["checked"] = Json::number(static_cast<int64_t>(absl::ToUnixSeconds(route.checked)));
  all[key] = entry;
  const std::string text = all.serialize();
  const std::string temporary = absl::StrCat(path, ".", getpid(), ".tmp");
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool written = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0) written = close(fd) == 0 && written;
  if (!written || rename(temporary.c_str(), path.c_str()) != 0) {
    LogDebug(0, absl::StrCat("cannot write the route cache ", path));
    unlink(temporary.c_str());
  }
}

}  // namespace kim
