// FileSync.DiffCopy as the sender (the "context", "dockerfile" and named local directories): a
// walk sending STAT packets, a reader thread and file workers answering REQs, like fsutil's sender.
#include "lib/build/attachables.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "fsutil/types/fsutil.pb.h"
#include "lib/build/attachable_util.h"
#include "lib/build/context_walker.h"

namespace kim::build {
namespace {

using fsutil::types::Packet;
constexpr size_t kChunkSize = 32 * 1024;
constexpr int kSendWorkers = 4;

// A closable FIFO of file requests (id, path, size) for the file workers.
class RequestQueue {
 public:
  struct Item {
    uint32_t id = 0;
    std::string path;
    int64_t size = 0;
  };
  void Push(uint32_t id, std::string path, int64_t size) {
    std::lock_guard lock(mu_);
    items_.push_back({.id = id, .path = std::move(path), .size = size});
    cv_.notify_one();
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  bool Pop(Item* item) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return false;
    *item = std::move(items_.front());
    items_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> items_;
  bool closed_ = false;
};

// FileSync.DiffCopy as the sender: walks the named directory, sends its STATs, and answers each
// REQ with the file's data from one of the workers.
absl::Status SendDirectory(SessionCall& call, const std::string& root, const WalkFilter& filter) {
  std::atomic<bool> write_failed{false};
  auto write = [&](const Packet& packet) {
    if (write_failed) return false;
    if (!call.Write(packet)) write_failed = true;
    return !write_failed.load();
  };

  // Regular files by id, with the size the walk saw.
  struct WalkedFile {
    std::string path;
    int64_t size = 0;
  };
  std::mutex files_mu;
  std::unordered_map<uint32_t, WalkedFile> files;
  RequestQueue queue;
  std::atomic<bool> fin{false};
  std::mutex error_mu;
  std::string receiver_error;

  // A file that cannot be read fails the transfer (the daemon shows the message) rather than
  // arriving empty.
  std::string send_error;
  auto fail = [&](const std::string& message) {
    {
      std::lock_guard lock(error_mu);
      if (!send_error.empty()) return;
      send_error = message;
    }
    Packet error;
    error.set_type(Packet::PACKET_ERR);
    error.set_data(message);
    write(error);
    write_failed = true;
  };
  // Sends file `id`'s data then the empty DATA that ends it. Once the size the walk saw has been
  // read, the final read that would only find the end of the file is skipped.
  auto send_file = [&](uint32_t id, const std::string& rel, int64_t size, std::string& buffer,
                       Packet& packet) {
    if (write_failed) return;
    const std::string path = root + "/" + rel;
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      fail(absl::StrCat("open ", rel, ": ", std::strerror(errno)));
      return;
    }
    packet.Clear();
    packet.set_type(Packet::PACKET_DATA);
    packet.set_id(id);
    int64_t sent = 0;
    bool read_ok = true;
    while (sent < size || size == 0) {
      const ssize_t n = read(fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        fail(absl::StrCat("read ", rel, ": ", std::strerror(errno)));
        read_ok = false;
      }
      if (n <= 0) break;
      packet.set_data(buffer.data(), static_cast<size_t>(n));
      sent += n;
      if (!write(packet)) break;
    }
    close(fd);
    if (!read_ok) return;
    packet.clear_data();
    write(packet);
  };

  std::thread reader([&] {
    Packet packet, data;
    std::string buffer(kChunkSize, '\0');
    while (call.Read(&packet)) {
      if (packet.type() == Packet::PACKET_REQ) {
        WalkedFile file;
        bool known = false;
        {
          std::lock_guard lock(files_mu);
          auto it = files.find(packet.id());
          if (it != files.end()) {
            file = std::move(it->second);
            files.erase(it);
            known = true;
          }
        }
        if (!known) {
          std::lock_guard lock(error_mu);
          receiver_error = absl::StrCat("invalid file id ", packet.id());
          break;
        }
        // A small file is sent right here (no hand-off to a worker); larger ones go to the
        // workers, which read them in parallel.
        if (file.size <= static_cast<int64_t>(kChunkSize)) {
          send_file(packet.id(), file.path, file.size, buffer, data);
        } else {
          queue.Push(packet.id(), std::move(file.path), file.size);
        }
      } else if (packet.type() == Packet::PACKET_FIN) {
        fin = true;
        break;
      } else if (packet.type() == Packet::PACKET_ERR) {
        std::lock_guard lock(error_mu);
        receiver_error = absl::StrCat("error from receiver: ", packet.data());
        break;
      }
    }
    queue.Close();
  });

  std::vector<std::thread> workers;
  for (int i = 0; i < kSendWorkers; ++i) {
    workers.emplace_back([&] {
      RequestQueue::Item item;
      std::string buffer(kChunkSize, '\0');
      Packet packet;
      while (queue.Pop(&item)) send_file(item.id, item.path, item.size, buffer, packet);
    });
  }

  uint32_t ordinal = 0;
  Packet stat_packet;
  absl::Status walked = WalkContext(root, filter, [&](fsutil::types::Stat& stat) {
    if ((stat.mode() & kGoModeType) == 0) {
      std::lock_guard lock(files_mu);
      files[ordinal] = {.path = stat.path(), .size = stat.size()};
    }
    ++ordinal;
    stat_packet.Clear();
    stat_packet.set_type(Packet::PACKET_STAT);
    stat_packet.mutable_stat()->Swap(&stat);
    if (!write(stat_packet)) {
      return absl::UnavailableError(absl::StrCat("failed to send stat ", stat_packet.stat().path()));
    }
    return absl::OkStatus();
  });
  if (walked.ok()) {
    Packet last;
    last.set_type(Packet::PACKET_STAT);
    if (!write(last)) walked = absl::UnavailableError("failed to send last stat");
  } else {
    Packet error;
    error.set_type(Packet::PACKET_ERR);
    error.set_data(std::string(walked.message()));
    write(error);
  }
  reader.join();
  for (std::thread& worker : workers) worker.join();
  {
    std::lock_guard lock(error_mu);
    if (!send_error.empty()) return absl::UnknownError(send_error);
  }
  if (!walked.ok()) return absl::UnknownError(walked.message());
  {
    std::lock_guard lock(error_mu);
    if (!receiver_error.empty()) return absl::UnknownError(receiver_error);
  }
  if (!fin) return absl::CancelledError("transfer ended before FIN");
  Packet done;
  done.set_type(Packet::PACKET_FIN);
  write(done);
  return absl::OkStatus();
}

}  // namespace

std::vector<SessionMethod> FileSyncMethods(std::map<std::string, std::string> dirs) {
  return {{"/moby.filesync.v1.FileSync/DiffCopy", [dirs = std::move(dirs)](SessionCall& call) {
             const std::vector<std::string> names = MetadataValues(call, "dir-name");
             const std::string name = names.empty() ? "" : names.front();
             auto dir = dirs.find(name);
             if (dir == dirs.end()) {
               return absl::NotFoundError(absl::StrCat("no access allowed to dir \"", name, "\""));
             }
             WalkFilter filter{.include_patterns = MetadataValues(call, "include-patterns"),
                               .exclude_patterns = MetadataValues(call, "exclude-patterns"),
                               .follow_paths = MetadataValues(call, "followpaths")};
             return SendDirectory(call, dir->second, filter);
           }}};
}

}  // namespace kim::build
