// PlanSolve, one step per group of flags: cache, network, named contexts, provenance, outputs.
#include "lib/build/plan_solve.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/core/files.h"

namespace kim::build {
namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The fields of "k1=v1,k2=v2" (--cache-from, --cache-to) in order; a field without '=' has an
// empty value.
std::vector<std::pair<std::string, std::string>> KeyValueFields(const std::string& value) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (absl::string_view field : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    fields.push_back(absl::StrSplit(field, absl::MaxSplits('=', 1)));
  }
  return fields;
}

// --cache-from: registry refs, each once, also as the frontend's "cache-imports".
absl::Status PlanCacheImports(const BuildOptions& options, SolvePlan* plan) {
  for (const std::string& value : options.cache_from) {
    std::string ref = value;
    if (absl::StrContains(value, "=")) {
      ref.clear();
      for (const auto& kv : KeyValueFields(value)) {
        if (kv.first == "type" && kv.second != "registry") {
          return absl::InvalidArgumentError(
              absl::StrCat("--cache-from type \"", kv.second, "\" is not supported (registry only)"));
        }
        if (kv.first == "ref") ref = kv.second;
      }
      if (ref.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("--cache-from \"", value, "\" has no ref"));
      }
    }
    if (std::find(plan->cache_imports.begin(), plan->cache_imports.end(), ref) ==
        plan->cache_imports.end()) {
      plan->cache_imports.push_back(ref);
    }
  }
  if (!plan->cache_imports.empty()) {
    std::vector<std::string> entries;
    for (const std::string& ref : plan->cache_imports) {
      entries.push_back(absl::StrCat(R"({"Type":"registry","Attrs":{"ref":)", JsonString(ref), "}}"));
    }
    plan->frontend_attrs["cache-imports"] = absl::StrCat("[", absl::StrJoin(entries, ","), "]");
  }
  return absl::OkStatus();
}

// --cache-to: registry (with a ref, mode min or max) or inline.
absl::Status PlanCacheExports(const BuildOptions& options, SolvePlan* plan) {
  for (const std::string& value : options.cache_to) {
    std::map<std::string, std::string> attrs;
    for (auto& [key, field] : KeyValueFields(value)) attrs[key] = std::move(field);
    std::string type = attrs.contains("type") ? attrs["type"] : "registry";
    attrs.erase("type");
    if (type == "registry") {
      if (attrs["ref"].empty()) {
        return absl::InvalidArgumentError(absl::StrCat("--cache-to \"", value, "\" has no ref"));
      }
      if (attrs.contains("mode") && attrs["mode"] != "min" && attrs["mode"] != "max") {
        return absl::InvalidArgumentError(
            absl::StrCat("--cache-to \"", value, "\": mode must be min or max"));
      }
    } else if (type != "inline") {
      return absl::UnimplementedError(absl::StrCat("--cache-to type \"", type,
                                                   "\" is not supported (registry, inline)"));
    }
    plan->cache_exports.emplace_back(type, std::move(attrs));
  }
  return absl::OkStatus();
}

// --network: default, none or host (which needs the network.host entitlement).
absl::Status PlanNetwork(const BuildOptions& options, SolvePlan* plan) {
  if (options.network == "none" || options.network == "host") {
    plan->frontend_attrs["force-network-mode"] = options.network;
    if (options.network == "host") plan->entitlements.push_back("network.host");
  } else if (!options.network.empty() && options.network != "default") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --network \"", options.network, "\": use default, none or host"));
  }
  return absl::OkStatus();
}

// --build-context NAME=VALUE: remote sources as they are, local directories served by FileSync.
absl::Status PlanBuildContexts(const BuildOptions& options, SolvePlan* plan) {
  for (const auto& [name, value] : options.build_contexts) {
    if (name.empty() || name == "context" || name == "dockerfile") {
      return absl::InvalidArgumentError(
          absl::StrCat("--build-context name \"", name, "\" is empty or reserved"));
    }
    const bool remote = absl::StartsWith(value, "docker-image://") ||
                        absl::StartsWith(value, "https://") || absl::StartsWith(value, "http://") ||
                        absl::StartsWith(value, "git://") || absl::StartsWith(value, "git@");
    if (remote) {
      plan->frontend_attrs["context:" + name] = value;
      continue;
    }
    if (absl::StrContains(value, "://")) {
      return absl::UnimplementedError(absl::StrCat(
          "--build-context ", name, "=", value,
          ": use a directory, docker-image://, a git or an https URL"));
    }
    struct stat st {};
    if (stat(value.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--build-context ", name, ": \"", value, "\" is not a directory"));
    }
    plan->local_contexts[name] = AbsolutePath(value);
    plan->frontend_attrs["context:" + name] = "local:" + name;
  }
  return absl::OkStatus();
}

// --provenance: true = mode=min, false or empty = none.
absl::Status PlanProvenance(const BuildOptions& options, SolvePlan* plan) {
  if (options.provenance.empty() || options.provenance == "false") return absl::OkStatus();
  const std::string value = options.provenance == "true" ? "mode=min" : options.provenance;
  if (!absl::StartsWith(value, "mode=min") && !absl::StartsWith(value, "mode=max")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --provenance \"", options.provenance, "\": use true, false, mode=min or mode=max"));
  }
  plan->frontend_attrs["attest:provenance"] = value;
  return absl::OkStatus();
}

// Layer compression of an image output: the user's (--compression, or compression= in -o),
// else uncompressed for an image that stays on the node and BuildKit's gzip for a pushed one.
absl::Status PlanCompression(const BuildOptions& options, bool push,
                             std::map<std::string, std::string>* attrs) {
  static const std::set<std::string> kKnown = {"uncompressed", "gzip", "zstd", "estargz"};
  std::string compression = options.compression;
  if (auto it = attrs->find("compression"); it != attrs->end()) compression = it->second;
  if (!compression.empty() && !kKnown.contains(compression)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid compression \"", compression, "\": use uncompressed, gzip, zstd or estargz"));
  }
  if (compression.empty()) {
    if (push) return absl::OkStatus();  // BuildKit's default, what registries expect: gzip
    compression = "uncompressed";
  }
  (*attrs)["compression"] = compression;
  // Layers BuildKit already has (the base image's) are converted too, so the image is uniform.
  if (!attrs->contains("force-compression")) (*attrs)["force-compression"] = "true";
  if (options.compression_level >= 0 && !attrs->contains("compression-level")) {
    (*attrs)["compression-level"] = absl::StrCat(options.compression_level);
  }
  return absl::OkStatus();
}

// An image (or registry) output: its names (the tags when it is the first), pushed when asked.
absl::Status PlanImageOutput(const BuildOptions& options, bool first_image, PlannedExport* planned) {
  auto& out_attrs = planned->attrs;
  bool push = options.push;
  if (planned->type == "registry") {
    planned->type = "image";
    push = true;
  }
  std::vector<std::string> names;
  if (first_image) names = options.tags;
  if (auto it = out_attrs.find("name"); it != out_attrs.end()) {
    for (absl::string_view name : absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
      names.emplace_back(name);
    }
    out_attrs.erase(it);
  }
  if (auto it = out_attrs.find("push"); it != out_attrs.end()) {
    push = push || it->second == "true" || it->second.empty();
    out_attrs.erase(it);
  }
  if (!names.empty()) {
    out_attrs["name"] = absl::StrJoin(names, ",");
    out_attrs["name-canonical"] = "";
  }
  if (push) {
    if (names.empty()) return absl::InvalidArgumentError("pushing an image needs a name (-t)");
    out_attrs["push"] = "true";
  }
  return PlanCompression(options, push, &out_attrs);
}

// Which outputs already took stdout and the OCI layout (one each).
struct OutputSlots {
  bool stdout_used = false;
  bool layout_used = false;
};

// A client-side output (local, tar, oci, docker): where it lands on this machine.
absl::Status PlanFileOutput(const BuildOptions& options, OutputSlots* slots,
                            PlannedExport* planned) {
  auto& out_attrs = planned->attrs;
  if (options.push) return absl::InvalidArgumentError("--push works only with an image output");
  auto dest = out_attrs.find("dest");
  if (dest == out_attrs.end() || dest->second.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("output type \"", planned->type, "\" needs dest=<path>"));
  }
  if (planned->type == "local") {
    planned->directory = AbsolutePath(dest->second);
  } else if (planned->type == "tar" || planned->type == "oci" || planned->type == "docker") {
    if (auto tar = out_attrs.find("tar"); tar != out_attrs.end() && tar->second == "false") {
      if (planned->type != "oci") {
        return absl::UnimplementedError(absl::StrCat(
            "output type \"", planned->type, "\" with tar=false is not supported (use type=oci)"));
      }
      if (slots->layout_used) return absl::InvalidArgumentError("only one output can be an OCI layout (tar=false)");
      if (dest->second == "-") return absl::InvalidArgumentError("an OCI layout (tar=false) needs dest=DIR");
      slots->layout_used = true;
      planned->layout_directory = AbsolutePath(dest->second);
    } else if (dest->second == "-") {
      if (slots->stdout_used) return absl::InvalidArgumentError("only one output can go to stdout");
      slots->stdout_used = true;
    }
    if (planned->layout_directory.empty()) {
      planned->file = dest->second == "-" ? "-" : AbsolutePath(dest->second);
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown output type \"", planned->type, "\""));
  }
  out_attrs.erase(dest);
  if ((planned->type == "oci" || planned->type == "docker") && !options.tags.empty() &&
      !out_attrs.contains("name")) {
    out_attrs["name"] = absl::StrJoin(options.tags, ",");
  }
  return absl::OkStatus();
}

// Each -o is one exporter; the tags name the first image output (or, with none, an image
// exporter of their own when no other output was asked for, as kim's default).
absl::Status PlanOutputs(const BuildOptions& options, SolvePlan* plan) {
  bool tags_used = false;
  OutputSlots slots;
  for (const BuildOutput& output : options.outputs) {
    PlannedExport planned{.type = output.type, .attrs = output.attrs, .directory = "", .file = ""};
    absl::Status status;
    if (planned.type == "image" || planned.type == "registry") {
      status = PlanImageOutput(options, !tags_used, &planned);
      tags_used = true;
    } else {
      status = PlanFileOutput(options, &slots, &planned);
    }
    if (!status.ok()) return status;
    plan->exports.push_back(std::move(planned));
  }
  if (options.outputs.empty() && (!options.tags.empty() || options.export_untagged)) {
    PlannedExport image{.type = "image", .attrs = {}, .directory = "", .file = ""};
    if (!options.tags.empty()) {
      image.attrs["name"] = absl::StrJoin(options.tags, ",");
      image.attrs["name-canonical"] = "";
      if (options.push) image.attrs["push"] = "true";
    }
    if (absl::Status status = PlanCompression(options, options.push, &image.attrs); !status.ok()) {
      return status;
    }
    plan->exports.push_back(std::move(image));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SolvePlan> PlanSolve(const BuildOptions& options, const std::string& dockerfile_name) {
  SolvePlan plan;
  auto& attrs = plan.frontend_attrs;
  attrs["filename"] = dockerfile_name;
  if (!options.target.empty()) attrs["target"] = options.target;
  for (const auto& [k, v] : options.build_args) attrs["build-arg:" + k] = v;
  for (const auto& [k, v] : options.labels) attrs["label:" + k] = v;
  if (!options.platforms.empty()) attrs["platform"] = absl::StrJoin(options.platforms, ",");
  if (options.no_cache) attrs["no-cache"] = "";
  if (options.pull) attrs["image-resolve-mode"] = "pull";
  if (!options.add_hosts.empty()) attrs["add-hosts"] = absl::StrJoin(options.add_hosts, ",");
  for (auto step : {PlanCacheImports, PlanCacheExports, PlanNetwork, PlanBuildContexts,
                    PlanProvenance, PlanOutputs}) {
    if (absl::Status status = step(options, &plan); !status.ok()) return status;
  }
  return plan;
}

}  // namespace kim::build
