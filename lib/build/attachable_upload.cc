// moby.upload.v1.Upload: a context archive from stdin served as http://buildkit-session/<id>.
#include "lib/build/attachables.h"

#include <memory>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "moby/upload/v1/upload.pb.h"

namespace kim::build {
namespace {

constexpr size_t kMaxUploadMessage = 3 << 20;

}  // namespace

std::vector<SessionMethod> UploadMethods(
    std::string id, std::function<absl::StatusOr<bool>(std::string* chunk)> read) {
  auto state = std::make_shared<std::pair<std::mutex, bool>>();  // one Pull only: a stream reads once
  return {{"/moby.upload.v1.Upload/Pull", [id = std::move(id), read = std::move(read), state](
                                              SessionCall& call) {
             const std::vector<std::string> paths = call.Metadata("urlpath");
             const std::string path = paths.empty() ? "" : paths.front();
             const std::string base = path.substr(path.find_last_of('/') + 1);
             std::lock_guard lock(state->first);
             if (base != id || state->second) {
               return absl::NotFoundError(absl::StrCat("no http response from session for ", base));
             }
             state->second = true;
             moby::upload::v1::BytesMessage message;
             std::string chunk;
             while (true) {
               chunk.clear();
               absl::StatusOr<bool> more = read(&chunk);
               if (!more.ok()) return more.status();
               // The daemon's gRPC client takes messages of up to 4 MiB.
               for (size_t offset = 0; offset < chunk.size(); offset += kMaxUploadMessage) {
                 message.set_data(chunk.substr(offset, kMaxUploadMessage));
                 if (!call.Write(message)) return absl::CancelledError("upload cancelled");
               }
               if (!*more) return absl::OkStatus();
             }
           }}};
}

}  // namespace kim::build
