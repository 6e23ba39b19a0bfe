// Fuzz target for an OCI image layout's index.json, as `kim push` of a layout reads it and as a
// build's `-o type=oci,tar=false` merges into one that is already there. Beyond "does not crash":
// merged into a readable index (or none), the result parses back and holds an entry for each
// name added.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/build/oci_layout.h"
#include "lib/images/registry_manifest.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = kim::fuzz::AsText(data, size);
  const auto original = kim::ParseIndexDescriptors(bytes);
  const std::string descriptor =
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,)"
      R"("digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})";
  const std::vector<std::string> names = {"docker.io/library/app:1", "r.example/x/y:2"};
  auto merged = kim::build::MergeOciIndex(bytes, descriptor, names);
  if (!merged.ok()) {
    Require(absl::IsInvalidArgument(merged.status()), "errors are InvalidArgument");
    return 0;
  }
  auto entries = kim::ParseIndexDescriptors(*merged);
  // Entries of other names are kept as they were: only a readable index stays readable.
  if (!original.ok() && !bytes.empty()) return 0;
  Require(entries.ok(), "a merged index parses back");
  size_t named = 0;
  for (const kim::Descriptor& entry : *entries) {
    auto it = entry.annotations.find("io.containerd.image.name");
    if (it != entry.annotations.end() && (it->second == names[0] || it->second == names[1])) ++named;
  }
  Require(named == names.size(), "one entry per name added");
  return 0;
}
