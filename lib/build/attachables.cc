// The session attachables. Each handler runs on a gRPC sync-server thread; the FileSync sender
// adds a reader thread and four file workers per transfer, like fsutil's sender.
#include "lib/build/attachables.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fsutil/types/fsutil.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "kim/credentials.h"
#include "lib/build/context_walker.h"
#include "lib/build/file_receiver.h"
#include "moby/buildkit/secrets/v1/secrets.grpc.pb.h"
#include "moby/filesync/v1/filesync.grpc.pb.h"
#include "moby/sshforward/v1/ssh.grpc.pb.h"

namespace kim::build {
namespace {

using fsutil::types::Packet;
constexpr size_t kChunkSize = 32 * 1024;
constexpr int kSendWorkers = 4;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's url.QueryUnescape (invalid escapes are kept as they are).
std::string QueryUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The values of one metadata key, decoded when "<key>-encoded" says so (BuildKit's encodeOpts).
std::vector<std::string> MetadataValues(const grpc::ServerContext& context, const std::string& key) {
  const auto& md = context.client_metadata();
  bool encoded = false;
  if (auto it = md.find(key + "-encoded"); it != md.end()) {
    const std::string value(it->second.data(), it->second.size());
    encoded = value == "1" || value == "t" || value == "T" || value == "true" ||
              value == "TRUE" || value == "True";
  }
  std::vector<std::string> out;
  auto [begin, end] = md.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    std::string value(it->second.data(), it->second.size());
    out.push_back(encoded ? QueryUnescape(value) : value);
  }
  return out;
}

// A closable FIFO of (id, path) requests for the file workers.
class RequestQueue {
 public:
  void Push(uint32_t id, std::string path) {
    std::lock_guard lock(mu_);
    items_.emplace_back(id, std::move(path));
    cv_.notify_one();
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  bool Pop(std::pair<uint32_t, std::string>* item) {
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
  std::deque<std::pair<uint32_t, std::string>> items_;
  bool closed_ = false;
};

class FileSyncService final : public moby::filesync::v1::FileSync::Service {
 public:
  explicit FileSyncService(std::map<std::string, std::string> dirs) : dirs_(std::move(dirs)) {}

  grpc::Status DiffCopy(grpc::ServerContext* context,
                        grpc::ServerReaderWriter<Packet, Packet>* stream) override {
    const std::vector<std::string> names = MetadataValues(*context, "dir-name");
    const std::string name = names.empty() ? "" : names.front();
    auto dir = dirs_.find(name);
    if (dir == dirs_.end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("no access allowed to dir \"", name, "\""));
    }
    WalkFilter filter{.include_patterns = MetadataValues(*context, "include-patterns"),
                      .exclude_patterns = MetadataValues(*context, "exclude-patterns"),
                      .follow_paths = MetadataValues(*context, "followpaths")};
    return Send(context, stream, dir->second, filter);
  }

 private:
  static grpc::Status Send(grpc::ServerContext* context,
                           grpc::ServerReaderWriter<Packet, Packet>* stream,
                           const std::string& root, const WalkFilter& filter) {
    std::mutex write_mu;
    std::atomic<bool> write_failed{false};
    // (Write's buffer_hint for the STATs was tried: 2.3x slower on 20k files.)
    auto write = [&](const Packet& packet) {
      std::lock_guard lock(write_mu);
      if (write_failed) return false;
      if (!stream->Write(packet)) write_failed = true;
      return !write_failed.load();
    };

    std::mutex files_mu;
    std::unordered_map<uint32_t, std::string> files;
    RequestQueue queue;
    std::atomic<bool> fin{false};
    std::mutex error_mu;
    std::string receiver_error;

    std::thread reader([&] {
      Packet packet;
      while (stream->Read(&packet)) {
        if (packet.type() == Packet::PACKET_REQ) {
          std::string path;
          {
            std::lock_guard lock(files_mu);
            auto it = files.find(packet.id());
            if (it != files.end()) {
              path = std::move(it->second);
              files.erase(it);
            }
          }
          if (path.empty()) {
            std::lock_guard lock(error_mu);
            receiver_error = absl::StrCat("invalid file id ", packet.id());
            break;
          }
          queue.Push(packet.id(), std::move(path));
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
        std::pair<uint32_t, std::string> item;
        std::string buffer(kChunkSize, '\0');
        Packet packet;
        while (queue.Pop(&item)) {
          if (write_failed) continue;
          const std::string path = root + "/" + item.second;
          const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
          packet.Clear();
          packet.set_type(Packet::PACKET_DATA);
          packet.set_id(item.first);
          if (fd >= 0) {
            while (true) {
              const ssize_t n = read(fd, buffer.data(), buffer.size());
              if (n < 0 && errno == EINTR) continue;
              if (n <= 0) break;
              packet.set_data(buffer.data(), static_cast<size_t>(n));
              if (!write(packet)) break;
            }
            close(fd);
          }
          packet.clear_data();
          write(packet);
        }
      });
    }

    uint32_t ordinal = 0;
    Packet stat_packet;
    absl::Status walked = WalkContext(root, filter, [&](fsutil::types::Stat& stat) {
      if ((stat.mode() & kGoModeType) == 0) {
        std::lock_guard lock(files_mu);
        files[ordinal] = stat.path();
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
      context->TryCancel();
    }
    reader.join();
    for (std::thread& worker : workers) worker.join();
    if (!walked.ok()) {
      return grpc::Status(grpc::StatusCode::UNKNOWN, std::string(walked.message()));
    }
    {
      std::lock_guard lock(error_mu);
      if (!receiver_error.empty()) return grpc::Status(grpc::StatusCode::UNKNOWN, receiver_error);
    }
    if (!fin) return grpc::Status(grpc::StatusCode::CANCELLED, "transfer ended before FIN");
    Packet done;
    done.set_type(Packet::PACKET_FIN);
    write(done);
    return grpc::Status::OK;
  }

  const std::map<std::string, std::string> dirs_;
};

class FileSendService final : public moby::filesync::v1::FileSend::Service {
 public:
  explicit FileSendService(FileSendTarget target) : target_(std::move(target)) {}

  grpc::Status DiffCopy(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<moby::filesync::v1::RawMessage, moby::filesync::v1::RawMessage>*
          stream) override {
    const std::vector<std::string> ids = MetadataValues(*context, "buildkit-attachable-exporter-id");
    if (!ids.empty() && ids.front() != "0") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("exporter ", ids.front(), " not found"));
    }
    if (!target_.directory.empty()) {
      absl::Status status = ReceiveDirectory(
          target_.directory,
          [&](Packet* packet) {
            moby::filesync::v1::RawMessage raw;
            if (!stream->Read(&raw)) return false;
            return packet->ParseFromString(raw.SerializeAsString());
          },
          [&](const Packet& packet) {
            moby::filesync::v1::RawMessage raw;
            raw.ParseFromString(packet.SerializeAsString());
            return stream->Write(raw);
          });
      if (!status.ok()) return grpc::Status(grpc::StatusCode::UNKNOWN, std::string(status.message()));
      return grpc::Status::OK;
    }
    int fd = 1;
    if (target_.file != "-") {
      fd = open(target_.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) {
        return grpc::Status(grpc::StatusCode::UNKNOWN,
                            absl::StrCat("open ", target_.file, ": ", std::strerror(errno)));
      }
    }
    moby::filesync::v1::RawMessage raw;
    moby::filesync::v1::BytesMessage bytes;
    bool ok = true;
    std::string error;
    while (stream->Read(&raw)) {
      if (!bytes.ParseFromString(raw.SerializeAsString())) continue;
      const std::string& data = bytes.data();
      for (size_t done = 0; ok && done < data.size();) {
        const ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          ok = false;
          error = absl::StrCat("write ", target_.file, ": ", std::strerror(errno));
          break;
        }
        done += static_cast<size_t>(n);
      }
      if (!ok) break;
    }
    if (fd != 1) {
      if (close(fd) != 0 && ok) {
        ok = false;
        error = absl::StrCat("close ", target_.file, ": ", std::strerror(errno));
      }
    }
    if (!ok) return grpc::Status(grpc::StatusCode::UNKNOWN, error);
    return grpc::Status::OK;
  }

 private:
  const FileSendTarget target_;
};

class AuthService final : public moby::filesync::v1::Auth::Service {
 public:
  grpc::Status Credentials(grpc::ServerContext*, const moby::filesync::v1::CredentialsRequest* request,
                           moby::filesync::v1::CredentialsResponse* response) override {
    auto config = DockerConfig::Load();
    if (!config.ok()) return grpc::Status::OK;  // anonymous, like buildctl with no config
    std::string host = request->host();
    if (host == "registry-1.docker.io") host = "docker.io";
    auto credentials = config->CredentialsFor(host);
    if (!credentials.ok()) return grpc::Status::OK;
    if (!credentials->identity_token.empty()) {
      response->set_secret(credentials->identity_token);
      return grpc::Status::OK;
    }
    response->set_username(credentials->username);
    response->set_secret(credentials->password);
    return grpc::Status::OK;
  }
};

class SecretsService final : public moby::buildkit::secrets::v1::Secrets::Service {
 public:
  explicit SecretsService(std::vector<BuildSecret> secrets) : secrets_(std::move(secrets)) {}

  grpc::Status GetSecret(grpc::ServerContext*, const moby::buildkit::secrets::v1::GetSecretRequest* request,
                         moby::buildkit::secrets::v1::GetSecretResponse* response) override {
    for (const BuildSecret& secret : secrets_) {
      if (secret.id != request->id()) continue;
      if (!secret.env.empty()) {
        const char* value = getenv(secret.env.c_str());
        if (value == nullptr) break;
        response->set_data(value);
        return grpc::Status::OK;
      }
      std::ifstream file(secret.file, std::ios::binary);
      if (!file) {
        return grpc::Status(grpc::StatusCode::UNKNOWN,
                            absl::StrCat("failed to read secret \"", secret.id, "\" from ", secret.file));
      }
      std::ostringstream content;
      content << file.rdbuf();
      response->set_data(content.str());
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("secret ", request->id(), " not found"));
  }

 private:
  const std::vector<BuildSecret> secrets_;
};

class SshService final : public moby::sshforward::v1::SSH::Service {
 public:
  explicit SshService(std::vector<BuildSsh> agents) : agents_(std::move(agents)) {}

  grpc::Status CheckAgent(grpc::ServerContext*, const moby::sshforward::v1::CheckAgentRequest* request,
                          moby::sshforward::v1::CheckAgentResponse*) override {
    if (Find(request->id().empty() ? "default" : request->id()) == nullptr) {
      return grpc::Status(grpc::StatusCode::UNKNOWN,
                          absl::StrCat("unset ssh forward key ", request->id()));
    }
    return grpc::Status::OK;
  }

  grpc::Status ForwardAgent(grpc::ServerContext* context,
                            grpc::ServerReaderWriter<moby::sshforward::v1::BytesMessage,
                                                     moby::sshforward::v1::BytesMessage>* stream) override {
    std::vector<std::string> ids = MetadataValues(*context, "buildkit.ssh.id");
    const std::string id = ids.empty() || ids.front().empty() ? "default" : ids.front();
    const std::string* socket_path = Find(id);
    if (socket_path == nullptr) {
      return grpc::Status(grpc::StatusCode::UNKNOWN, absl::StrCat("unset ssh forward key ", id));
    }
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path->c_str(), sizeof address.sun_path - 1);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      if (fd >= 0) close(fd);
      return grpc::Status(grpc::StatusCode::UNKNOWN,
                          absl::StrCat("failed to connect to ", *socket_path, ": ", std::strerror(errno)));
    }
    // The agent protocol is request/response, each message a uint32 length then a type byte.
    // Only listing identities (11), signing (13) and extensions (27) go through; anything else
    // (adding, removing keys, locking) is answered with SSH_AGENT_FAILURE.
    std::string pending;
    moby::sshforward::v1::BytesMessage in, out;
    auto read_full = [&](char* data, size_t size) {
      for (size_t done = 0; done < size;) {
        const ssize_t n = read(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
      }
      return true;
    };
    bool ok = true;
    while (ok && stream->Read(&in)) {
      pending += in.data();
      while (ok && pending.size() >= 4) {
        const auto* p = reinterpret_cast<const unsigned char*>(pending.data());
        const uint32_t length = (uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
        if (length > (1u << 20)) {
          ok = false;
          break;
        }
        if (pending.size() < 4 + length) break;
        const std::string request = pending.substr(0, 4 + length);
        pending.erase(0, 4 + length);
        const unsigned char type = length > 0 ? static_cast<unsigned char>(request[4]) : 0;
        std::string response;
        if (type == 11 || type == 13 || type == 27) {
          if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
              static_cast<ssize_t>(request.size())) {
            ok = false;
            break;
          }
          char header[4];
          if (!read_full(header, 4)) {
            ok = false;
            break;
          }
          const auto* h = reinterpret_cast<const unsigned char*>(header);
          const uint32_t size = (uint32_t{h[0]} << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
          if (size > (1u << 20)) {
            ok = false;
            break;
          }
          response.assign(header, 4);
          response.resize(4 + size);
          if (!read_full(response.data() + 4, size)) {
            ok = false;
            break;
          }
        } else {
          response = std::string("\0\0\0\1\5", 5);  // SSH_AGENT_FAILURE
        }
        out.set_data(response);
        if (!stream->Write(out)) ok = false;
      }
    }
    close(fd);
    return grpc::Status::OK;
  }

 private:
  const std::string* Find(const std::string& id) const {
    for (const BuildSsh& agent : agents_) {
      if (agent.id == id && !agent.paths.empty()) return &agent.paths.front();
    }
    return nullptr;
  }

  const std::vector<BuildSsh> agents_;
};

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest*,
                     grpc::health::v1::HealthCheckResponse* response) override {
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }
  grpc::Status Watch(grpc::ServerContext* context, const grpc::health::v1::HealthCheckRequest*,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override {
    grpc::health::v1::HealthCheckResponse response;
    response.set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    if (!writer->Write(response)) return grpc::Status::OK;
    while (!context->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return grpc::Status::OK;
  }
};

}  // namespace

std::unique_ptr<grpc::Service> NewFileSyncService(std::map<std::string, std::string> dirs) {
  return std::make_unique<FileSyncService>(std::move(dirs));
}
std::unique_ptr<grpc::Service> NewFileSendService(FileSendTarget target) {
  return std::make_unique<FileSendService>(std::move(target));
}
std::unique_ptr<grpc::Service> NewAuthService() { return std::make_unique<AuthService>(); }
std::unique_ptr<grpc::Service> NewSecretsService(std::vector<BuildSecret> secrets) {
  return std::make_unique<SecretsService>(std::move(secrets));
}
std::unique_ptr<grpc::Service> NewSshService(std::vector<BuildSsh> agents) {
  return std::make_unique<SshService>(std::move(agents));
}
std::vector<std::string> SshMethods() {
  return {"/moby.sshforward.v1.SSH/CheckAgent", "/moby.sshforward.v1.SSH/ForwardAgent"};
}
std::unique_ptr<grpc::Service> NewHealthService() { return std::make_unique<HealthService>(); }

std::vector<std::string> FileSyncMethods() {
  return {"/moby.filesync.v1.FileSync/DiffCopy"};
}
std::vector<std::string> FileSendMethods() { return {"/moby.filesync.v1.FileSend/DiffCopy"}; }
std::vector<std::string> AuthMethods() {
  return {"/moby.filesync.v1.Auth/Credentials", "/moby.filesync.v1.Auth/FetchToken",
          "/moby.filesync.v1.Auth/GetTokenAuthority", "/moby.filesync.v1.Auth/VerifyTokenAuthority"};
}
std::vector<std::string> SecretsMethods() { return {"/moby.buildkit.secrets.v1.Secrets/GetSecret"}; }
std::vector<std::string> HealthMethods() {
  return {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"};
}

}  // namespace kim::build
