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

// FileSync.DiffCopy as the sender of one directory: the walk sends its STATs while a reader
// thread takes the daemon's REQs and the workers answer each with the file's data.
class DirectorySender {
 public:
  DirectorySender(SessionCall& call, const std::string& root) : call_(call), root_(root) {}

  // Runs the whole transfer; the first error (a file that cannot be read, the walk's, the
  // receiver's) is the result.
  absl::Status Run(const WalkFilter& filter) {
    std::thread reader([this] { ReadRequests(); });
    std::vector<std::thread> workers;
    for (int i = 0; i < kSendWorkers; ++i) {
      workers.emplace_back([this] {
        RequestQueue::Item item;
        std::string buffer(kChunkSize, '\0');
        Packet packet;
        while (queue_.Pop(&item)) SendFile(item.id, item.path, item.size, buffer, packet);
      });
    }
    absl::Status walked = SendStats(filter);
    reader.join();
    for (std::thread& worker : workers) worker.join();
    return Result(walked);
  }

 private:
  // Regular files by id, with the size the walk saw.
  struct WalkedFile {
    std::string path;
    int64_t size = 0;
  };

  bool Write(const Packet& packet) {
    if (write_failed_) return false;
    if (!call_.Write(packet)) write_failed_ = true;
    return !write_failed_.load();
  }

  // A file that cannot be read fails the transfer (the daemon shows the message) rather than
  // arriving empty.
  void Fail(const std::string& message) {
    {
      std::lock_guard lock(error_mu_);
      if (!send_error_.empty()) return;
      send_error_ = message;
    }
    Packet error;
    error.set_type(Packet::PACKET_ERR);
    error.set_data(message);
    Write(error);
    write_failed_ = true;
  }

  // Sends file `id`'s data then the empty DATA that ends it. Once the size the walk saw has been
  // read, the final read that would only find the end of the file is skipped.
  void SendFile(uint32_t id, const std::string& rel, int64_t size, std::string& buffer,
                Packet& packet) {
    if (write_failed_) return;
    const std::string path = root_ + "/" + rel;
    // O_NOFOLLOW: a file the walk saw that was swapped for a symlink since is not followed.
    const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      Fail(absl::StrCat("open ", rel, ": ", std::strerror(errno)));
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
        Fail(absl::StrCat("read ", rel, ": ", std::strerror(errno)));
        read_ok = false;
      }
      if (n <= 0) break;
      packet.set_data(buffer.data(), static_cast<size_t>(n));
      sent += n;
      if (!Write(packet)) break;
    }
    close(fd);
    if (!read_ok) return;
    packet.clear_data();
    Write(packet);
  }

  // The file a REQ names, taken out of the walked files; false for an id the walk never sent.
  bool TakeFile(uint32_t id, WalkedFile* file) {
    std::lock_guard lock(files_mu_);
    auto it = files_.find(id);
    if (it == files_.end()) return false;
    *file = std::move(it->second);
    files_.erase(it);
    return true;
  }

  void SetReceiverError(std::string message) {
    std::lock_guard lock(error_mu_);
    receiver_error_ = std::move(message);
  }

  // The reader thread: REQs until FIN (or an error), then closes the workers' queue.
  void ReadRequests() {
    Packet packet, data;
    std::string buffer(kChunkSize, '\0');
    while (call_.Read(&packet)) {
      if (packet.type() == Packet::PACKET_REQ) {
        WalkedFile file;
        if (!TakeFile(packet.id(), &file)) {
          SetReceiverError(absl::StrCat("invalid file id ", packet.id()));
          break;
        }
        // A small file is sent right here (no hand-off to a worker); larger ones go to the
        // workers, which read them in parallel.
        if (file.size <= static_cast<int64_t>(kChunkSize)) {
          SendFile(packet.id(), file.path, file.size, buffer, data);
        } else {
          queue_.Push(packet.id(), std::move(file.path), file.size);
        }
      } else if (packet.type() == Packet::PACKET_FIN) {
        fin_ = true;
        break;
      } else if (packet.type() == Packet::PACKET_ERR) {
        SetReceiverError(absl::StrCat("error from receiver: ", packet.data()));
        break;
      }
    }
    queue_.Close();
  }

  // The walk: one STAT per entry (regular files remembered for the REQs), then the empty STAT
  // that ends the list, or the walk's error as an ERR packet.
  absl::Status SendStats(const WalkFilter& filter) {
    uint32_t ordinal = 0;
    Packet stat_packet;
    absl::Status walked = WalkContext(root_, filter, [&](fsutil::types::Stat& stat) {
      if ((stat.mode() & kGoModeType) == 0) {
        std::lock_guard lock(files_mu_);
        files_[ordinal] = {.path = stat.path(), .size = stat.size()};
      }
      ++ordinal;
      stat_packet.Clear();
      stat_packet.set_type(Packet::PACKET_STAT);
      stat_packet.mutable_stat()->Swap(&stat);
      if (!Write(stat_packet)) {
        return absl::UnavailableError(absl::StrCat("failed to send stat ", stat_packet.stat().path()));
      }
      return absl::OkStatus();
    });
    if (walked.ok()) {
      Packet last;
      last.set_type(Packet::PACKET_STAT);
      if (!Write(last)) walked = absl::UnavailableError("failed to send last stat");
    } else {
      Packet error;
      error.set_type(Packet::PACKET_ERR);
      error.set_data(std::string(walked.message()));
      Write(error);
    }
    return walked;
  }

  // After the threads ended: the first error, else FIN back to the daemon.
  absl::Status Result(const absl::Status& walked) {
    {
      std::lock_guard lock(error_mu_);
      if (!send_error_.empty()) return absl::UnknownError(send_error_);
    }
    if (!walked.ok()) return absl::UnknownError(walked.message());
    {
      std::lock_guard lock(error_mu_);
      if (!receiver_error_.empty()) return absl::UnknownError(receiver_error_);
    }
    if (!fin_) return absl::CancelledError("transfer ended before FIN");
    Packet done;
    done.set_type(Packet::PACKET_FIN);
    Write(done);
    return absl::OkStatus();
  }

  SessionCall& call_;
  const std::string& root_;
  std::atomic<bool> write_failed_{false};
  std::mutex files_mu_;
  std::unordered_map<uint32_t, WalkedFile> files_;
  RequestQueue queue_;
  std::atomic<bool> fin_{false};
  std::mutex error_mu_;
  std::string receiver_error_;
  std::string send_error_;
};

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
             return DirectorySender(call, dir->second).Run(filter);
           }}};
}

}  // namespace kim::build
