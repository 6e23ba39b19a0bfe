// Docker's image inspect object from an image's config blob.
#include "apps/kim/output/image_inspect.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "apps/kim/output/go_json.h"
#include "kim/reference.h"

namespace kim::cli {
namespace {

using web::json::value;

// container.Config's fields in the order Docker's JSON has them.
const std::vector<std::string>& ConfigKeyOrder() {
  static const std::vector<std::string> keys = {
      "Hostname",   "Domainname",   "User",        "AttachStdin",     "AttachStdout",
      "AttachStderr", "ExposedPorts", "Tty",        "OpenStdin",       "StdinOnce",
      "Env",        "Cmd",          "Healthcheck", "ArgsEscaped",     "Image",
      "Volumes",    "WorkingDir",   "Entrypoint",  "NetworkDisabled", "MacAddress",
      "OnBuild",    "Labels",       "StopSignal",  "StopTimeout",     "Shell"};
  return keys;
}

std::string StringField(const value& object, const char* name) {
  if (!object.is_object() || !object.has_string_field(name)) return "";
  return object.at(name).as_string();
}

value Names(const std::vector<std::string>& names) {
  value array = value::array();
  size_t i = 0;
  for (const std::string& name : names) {
    auto ref = ImageReference::Parse(name);
    array[i++] = value::string(ref.ok() ? ref->FamiliarString() : name);
  }
  return array;
}

// The config's "config" object, Docker's keys first in Docker's order, any others after.
value OrderedConfig(const value& config) {
  if (!config.is_object()) return value::null();
  value ordered = value::object(true);
  std::set<std::string> done;
  for (const std::string& key : ConfigKeyOrder()) {
    if (config.has_field(key)) {
      ordered[key] = config.at(key);
      done.insert(key);
    }
  }
  for (const auto& [key, field] : config.as_object()) {
    if (!done.contains(key)) ordered[key] = field;
  }
  return ordered;
}

// Go's RFC3339Nano of `t` in UTC ("2021-05-06T07:08:09.123456789Z"); "" when unknown.
std::string Rfc3339Nano(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<web::json::value> InspectObject(const ImageDetails& details) {
  std::error_code error;
  const value config = value::parse(details.config_json, error);
  if (error || !config.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("image ", details.image.id, ": its config is not a JSON object"));
  }
  value out = value::object(true);
  out["Id"] = value::string(details.image.id);
  out["RepoTags"] = Names(details.image.repo_tags);
  out["RepoDigests"] = Names(details.image.repo_digests);
  out["Parent"] = value::string("");
  out["Comment"] = value::string(StringField(config, "comment"));
  out["Created"] = value::string(Rfc3339Nano(details.image.created));
  out["DockerVersion"] = value::string(StringField(config, "docker_version"));
  out["Author"] = value::string(StringField(config, "author"));
  out["Config"] = config.has_field("config") ? OrderedConfig(config.at("config")) : value::null();
  out["Architecture"] = value::string(StringField(config, "architecture"));
  if (const std::string variant = StringField(config, "variant"); !variant.empty()) {
    out["Variant"] = value::string(variant);
  }
  out["Os"] = value::string(StringField(config, "os"));
  out["Size"] = value::number(static_cast<int64_t>(details.image.size));
  value rootfs = value::object(true);
  const value* config_rootfs = config.has_object_field("rootfs") ? &config.at("rootfs") : nullptr;
  rootfs["Type"] = value::string(config_rootfs ? StringField(*config_rootfs, "type") : "");
  value layers = value::array();
  size_t i = 0;
  for (const LayerDetails& layer : details.layers) {
    if (!layer.diff_id.empty()) layers[i++] = value::string(layer.diff_id);
  }
  rootfs["Layers"] = layers;
  out["RootFS"] = rootfs;
  value metadata = value::object(true);
  metadata["LastTagTime"] = value::string("0001-01-01T00:00:00Z");
  out["Metadata"] = metadata;
  return out;
}

std::string InspectArray(const std::vector<web::json::value>& objects) {
  value array = value::array();
  for (size_t i = 0; i < objects.size(); ++i) array[i] = objects[i];
  return GoJson(array, {.indent = "    ", .escape_html = true}) + "\n";
}

}  // namespace kim::cli
