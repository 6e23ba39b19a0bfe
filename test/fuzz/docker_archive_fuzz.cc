// Fuzz target for image archives as `kim load` reads them: the tar stream (ustar, pax and GNU
// long names), gzip around it, and the docker-archive manifest.json inside (or the input itself
// read as one). Beyond "does not crash": every entry's data adds up to its size, and a
// manifest.json that parses holds entries whose layers are listed in order.
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "lib/images/docker_archive_manifest.h"
#include "lib/images/gzip_stream.h"
#include "lib/images/tar_stream.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

namespace {

// Keeps the small files of the archive, as the importer keeps its documents.
class Collector final : public kim::TarReader::Handler {
 public:
  absl::Status OnEntry(const kim::TarEntry& entry) override {
    current_ = entry;
    received_ = 0;
    if (entry.type == kim::TarEntry::Type::kFile) files_[entry.name].clear();
    return absl::OkStatus();
  }
  absl::Status OnData(std::string_view data) override {
    received_ += data.size();
    Require(received_ <= current_.size, "no more data than the entry's size");
    std::string& content = files_[current_.name];
    if (content.size() < 65536) content.append(data.substr(0, 65536 - content.size()));
    return absl::OkStatus();
  }
  absl::Status OnEntryEnd() override {
    if (current_.type == kim::TarEntry::Type::kFile) {
      Require(received_ == current_.size, "a finished entry got all its data");
    }
    return absl::OkStatus();
  }
  const std::map<std::string, std::string>& files() const { return files_; }

 private:
  kim::TarEntry current_;
  uint64_t received_ = 0;
  std::map<std::string, std::string> files_;
};

void CheckManifest(std::string_view json) {
  auto entries = kim::ParseDockerArchiveManifest(json);
  if (!entries.ok()) {
    Require(absl::IsInvalidArgument(entries.status()), "errors are InvalidArgument");
    return;
  }
  for (const kim::DockerArchiveEntry& entry : *entries) {
    if (entry.config) Require(entry.config->size() <= json.size(), "paths come from the input");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = kim::fuzz::AsText(data, size);
  CheckManifest(input);
  Collector collector;
  kim::TarReader tar(&collector);
  absl::Status status;
  if (kim::LooksGzipped(input)) {
    kim::GzipInflater gzip([&](std::string_view bytes) {
      if (!status.ok()) return status;
      status = tar.Feed(bytes);
      return status;
    });
    // In pieces, as the archive arrives from the network.
    for (size_t at = 0; at < input.size() && status.ok(); at += 700) {
      absl::Status fed = gzip.Feed(input.substr(at, 700));
      if (!fed.ok()) status = fed;
    }
    if (status.ok()) status = gzip.Finish();
  } else {
    for (size_t at = 0; at < input.size() && status.ok(); at += 700) status = tar.Feed(input.substr(at, 700));
  }
  if (status.ok()) status = tar.Finish();
  if (auto it = collector.files().find("manifest.json"); it != collector.files().end()) {
    CheckManifest(it->second);
  }
  return 0;
}
