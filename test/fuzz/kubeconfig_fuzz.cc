// Fuzz target for kubeconfig files (YAML the user's machine holds, often written by other tools):
// parsing, merging and resolving every context. Paths to files are dropped before resolving, so
// the target reads no file. Beyond "does not crash": errors are InvalidArgument or Unimplemented
// with a message, and a resolved context has a server without a trailing slash.
#include <string>

#include "absl/status/status.h"
#include "lib/kube/kubeconfig.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

namespace {

void DropPaths(std::map<std::string, kim::kube::NamedEntry>& entries) {
  for (auto& [name, entry] : entries) {
    for (const char* key : {"certificate-authority", "client-certificate", "client-key", "tokenFile"}) {
      entry.fields.erase(key);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(kim::fuzz::AsText(data, size));
  auto parsed = kim::kube::ParseKubeconfig(text, "fuzz.yaml", "/nonexistent-kim-fuzz");
  if (!parsed.ok()) {
    Require(absl::IsInvalidArgument(parsed.status()), "parse errors are InvalidArgument");
    Require(!parsed.status().message().empty(), "parse errors have a message");
    return 0;
  }
  kim::kube::MergedKubeconfig merged;
  kim::kube::MergeKubeconfig(merged, *parsed);
  kim::kube::MergeKubeconfig(merged, *parsed);  // merging the same file again changes nothing
  Require(merged.contexts.size() == parsed->contexts.size(), "merge keeps the first entries");
  DropPaths(merged.clusters);
  DropPaths(merged.users);
  std::vector<std::string> contexts = {""};
  for (const auto& [name, entry] : merged.contexts) contexts.push_back(name);
  for (const std::string& context : contexts) {
    auto rest = kim::kube::ResolveContext(merged, context);
    if (rest.ok()) {
      Require(!rest->server.empty() && rest->server.back() != '/', "server without trailing /");
    } else {
      Require(absl::IsInvalidArgument(rest.status()) || absl::IsUnimplemented(rest.status()),
              "resolve errors are InvalidArgument or Unimplemented");
      Require(!rest.status().message().empty(), "resolve errors have a message");
    }
  }
  return 0;
}
