// Fuzz target for the BuildKit session's framing as kim's session server reads it: the HTTP/2
// connection buildkitd opens inside the Session stream (nghttp2 on the raw bytes) and the gRPC
// messages in its DATA frames (the 5-byte prefix), dispatched to real handlers (Health, SSH
// CheckAgent, FileSync's sender of a small directory) and a streaming echo. The input is what the client sends, handed over in pieces.
// Beyond "does not crash": the server always stops (a hang is a libFuzzer timeout), every handler
// is joined, and nothing leaks (LeakSanitizer).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "lib/build/attachables.h"
#include "lib/build/session_server.h"
#include "moby/sshforward/v1/ssh.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "test/fuzz/fuzz_support.h"

namespace {

// The client's bytes in pieces; after the last one, the client stays connected for a moment (so
// that handlers can answer) and then hangs up.
class MemoryStream final : public kim::build::SessionByteStream {
 public:
  explicit MemoryStream(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}
  bool Read(std::string* bytes) override {
    std::unique_lock lock(mu_);
    if (next_ < pieces_.size() && !aborted_) {
      *bytes = pieces_[next_++];
      return true;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(1), [&] { return aborted_; });
    return false;
  }
  bool Write(std::string bytes) override {
    std::lock_guard lock(mu_);
    written_ += bytes.size();
    return !write_closed_;
  }
  void CloseWrite() override {
    std::lock_guard lock(mu_);
    write_closed_ = true;
  }
  void Abort() override {
    std::lock_guard lock(mu_);
    aborted_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> pieces_;
  size_t next_ = 0;
  size_t written_ = 0;
  bool write_closed_ = false;
  bool aborted_ = false;
};

std::vector<kim::build::SessionMethod> Methods() {
  std::vector<kim::build::SessionMethod> methods = kim::build::HealthMethods();
  // FileSync as the sender of a small read-only directory: the daemon's REQ, FIN and ERR
  // packets (and its include/exclude patterns in the metadata) are outside input too.
  for (auto& method : kim::build::FileSyncMethods({{"context", KIM_FUZZ_CORPUS_DIR "/../../data/build-context"}})) {
    methods.push_back(std::move(method));
  }
  for (auto& method : kim::build::SshMethods({{.id = "default", .socket = "/nonexistent-kim-fuzz"}})) {
    if (method.name.ends_with("/CheckAgent")) methods.push_back(std::move(method));
  }
  methods.push_back({"/kim.fuzz.Echo/Stream", [](kim::build::SessionCall& call) {
                       moby::sshforward::v1::BytesMessage message;
                       while (call.Read(&message)) {
                         if (!call.Write(message)) break;
                       }
                       return absl::InvalidArgumentError("echo done: \x01%\xff");
                     }});
  return methods;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Strings with invalid UTF-8 are refused by protobuf, which logs each one: keep runs quiet.
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  const std::string_view input = kim::fuzz::AsText(data, size);
  std::vector<std::string> pieces;
  for (size_t at = 0; at < input.size(); at += 256) pieces.emplace_back(input.substr(at, 256));
  MemoryStream stream(std::move(pieces));
  {
    kim::build::SessionServer server(&stream, Methods());
    server.Start();
    server.Stop(std::chrono::seconds(5));
    server.Stop(std::chrono::seconds(5));  // idempotent
  }
  return 0;
}
