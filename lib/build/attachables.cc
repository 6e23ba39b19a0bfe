// The session attachables. Each handler runs on its own thread (see SessionServer); the FileSync
// sender adds a reader thread and file workers per transfer, like fsutil's sender.
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
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fsutil/types/fsutil.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "kim/credentials.h"
#include "lib/build/context_walker.h"
#include "lib/build/file_receiver.h"
#include "moby/buildkit/secrets/v1/secrets.pb.h"
#include "moby/filesync/v1/filesync.pb.h"
#include "moby/sshforward/v1/ssh.pb.h"
#include "moby/upload/v1/upload.pb.h"

namespace kim::build {
namespace {

using fsutil::types::Packet;
constexpr size_t kChunkSize = 32 * 1024;
constexpr int kSendWorkers = 4;
constexpr size_t kMaxUploadMessage = 3 << 20;

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
std::vector<std::string> MetadataValues(const SessionCall& call, const std::string& key) {
  bool encoded = false;
  for (const std::string& value : call.Metadata(key + "-encoded")) {
    encoded = value == "1" || value == "t" || value == "T" || value == "true" ||
              value == "TRUE" || value == "True";
  }
  std::vector<std::string> out = call.Metadata(key);
  if (encoded) {
    for (std::string& value : out) value = QueryUnescape(value);
  }
  return out;
}

// A unary method: reads the request, runs `serve`, writes the response when it succeeded.
template <typename Request, typename Response>
SessionMethod Unary(std::string name,
                    std::function<absl::Status(SessionCall&, const Request&, Response*)> serve) {
  return {std::move(name), [serve = std::move(serve)](SessionCall& call) {
            Request request;
            if (!call.Read(&request)) return absl::InvalidArgumentError("no request message");
            Response response;
            absl::Status status = serve(call, request, &response);
            if (status.ok() && !call.Write(response)) return absl::CancelledError("call cancelled");
            return status;
          }};
}

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

// FileSend.DiffCopy: exporter output arriving from the daemon, as a directory (fsutil packets)
// or as one file's bytes (BytesMessages).
absl::Status ReceiveOutput(SessionCall& call, const std::map<int, FileSendTarget>& targets) {
  const std::vector<std::string> ids = MetadataValues(call, "buildkit-attachable-exporter-id");
  const std::string id = ids.empty() ? "0" : ids.front();
  auto found = targets.end();
  for (auto it = targets.begin(); it != targets.end(); ++it) {
    if (std::to_string(it->first) == id) found = it;
  }
  if (found == targets.end()) return absl::NotFoundError(absl::StrCat("exporter ", id, " not found"));
  const FileSendTarget& target = found->second;
  if (!target.directory.empty()) {
    absl::Status status = ReceiveDirectory(
        target.directory, [&](Packet* packet) { return call.Read(packet); },
        [&](const Packet& packet) { return call.Write(packet); });
    if (!status.ok()) return absl::UnknownError(status.message());
    return absl::OkStatus();
  }
  int fd = 1;
  if (target.file != "-") {
    std::error_code ignored;  // open reports a parent that could not be made
    std::filesystem::create_directories(std::filesystem::path(target.file).parent_path(), ignored);
    fd = open(target.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return absl::UnknownError(absl::StrCat("open ", target.file, ": ", std::strerror(errno)));
  }
  moby::filesync::v1::BytesMessage bytes;
  std::string error;
  while (error.empty() && call.Read(&bytes)) {
    const std::string& data = bytes.data();
    for (size_t done = 0; done < data.size();) {
      const ssize_t n = write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = absl::StrCat("write ", target.file, ": ", std::strerror(errno));
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  if (fd != 1 && close(fd) != 0 && error.empty()) {
    error = absl::StrCat("close ", target.file, ": ", std::strerror(errno));
  }
  if (!error.empty()) return absl::UnknownError(error);
  return absl::OkStatus();
}

// Auth.Credentials from `store`; anonymous (an empty answer) when there are none or the
// lookup fails, like buildctl with no usable config.
absl::Status Credentials(const CredentialStore& store,
                         const moby::filesync::v1::CredentialsRequest& request,
                         moby::filesync::v1::CredentialsResponse* response) {
  std::string host = request.host();
  if (host == "registry-1.docker.io") host = "docker.io";
  auto credentials = store.CredentialsFor(host);
  if (!credentials.ok()) return absl::OkStatus();
  if (!credentials->identity_token.empty()) {
    response->set_secret(credentials->identity_token);
    return absl::OkStatus();
  }
  response->set_username(credentials->username);
  response->set_secret(credentials->password);
  return absl::OkStatus();
}

// Secrets.GetSecret: the secret's file or environment variable, read when asked for.
absl::Status GetSecret(const std::vector<BuildSecret>& secrets,
                       const moby::buildkit::secrets::v1::GetSecretRequest& request,
                       moby::buildkit::secrets::v1::GetSecretResponse* response) {
  for (const BuildSecret& secret : secrets) {
    if (secret.id != request.id()) continue;
    if (!secret.env.empty()) {
      const char* value = getenv(secret.env.c_str());
      if (value == nullptr) break;
      response->set_data(value);
      return absl::OkStatus();
    }
    std::ifstream file(secret.file, std::ios::binary);
    if (!file) {
      return absl::UnknownError(
          absl::StrCat("failed to read secret \"", secret.id, "\" from ", secret.file));
    }
    std::ostringstream content;
    content << file.rdbuf();
    response->set_data(content.str());
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("secret ", request.id(), " not found"));
}

const SshForward* FindAgent(const std::vector<SshForward>& agents, const std::string& id) {
  for (const SshForward& agent : agents) {
    if (agent.id == id) return &agent;
  }
  return nullptr;
}

// A connection to a local agent socket that relays the read-only requests: listing identities
// (11), signing (13) and extensions (27); anything else (adding, removing keys, locking) is
// answered with SSH_AGENT_FAILURE without reaching the agent.
class SocketAgent {
 public:
  ~SocketAgent() {
    if (fd_ >= 0) close(fd_);
  }
  absl::Status Connect(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      return absl::UnknownError(absl::StrCat("failed to connect to ", path, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  // The response body to one request body (both without their length prefix).
  absl::StatusOr<std::string> Answer(const std::string& body) {
    const unsigned char type = body.empty() ? 0 : static_cast<unsigned char>(body[0]);
    if (type != 11 && type != 13 && type != 27) return std::string(1, '\5');  // SSH_AGENT_FAILURE
    const std::string request = LengthPrefix(body.size()) + body;
    if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      return absl::UnavailableError("the SSH agent hung up");
    }
    char header[4];
    if (!ReadFull(header, 4)) return absl::UnavailableError("the SSH agent hung up");
    const auto* h = reinterpret_cast<const unsigned char*>(header);
    const uint32_t size = (uint32_t{h[0]} << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
    if (size > (1u << 20)) return absl::DataLossError("oversized answer from the SSH agent");
    std::string response(size, '\0');
    if (!ReadFull(response.data(), size)) return absl::UnavailableError("the SSH agent hung up");
    return response;
  }

 private:
  bool ReadFull(char* data, size_t size) {
    for (size_t done = 0; done < size;) {
      const ssize_t n = read(fd_, data + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  static std::string LengthPrefix(size_t size) {
    return {static_cast<char>(size >> 24), static_cast<char>(size >> 16),
            static_cast<char>(size >> 8), static_cast<char>(size)};
  }

  int fd_ = -1;
};

// SSH.ForwardAgent: agent requests arrive as a byte stream of length-prefixed messages; each is
// answered by the local agent socket (read-only) or by the keys loaded from files.
absl::Status ForwardAgent(SessionCall& call, const std::vector<SshForward>& agents) {
  std::vector<std::string> ids = MetadataValues(call, "buildkit.ssh.id");
  const std::string id = ids.empty() || ids.front().empty() ? "default" : ids.front();
  const SshForward* agent = FindAgent(agents, id);
  if (agent == nullptr) return absl::UnknownError(absl::StrCat("unset ssh forward key ", id));
  SocketAgent socket_agent;
  if (!agent->keys) {
    if (absl::Status status = socket_agent.Connect(agent->socket); !status.ok()) return status;
  }
  std::string pending;
  moby::sshforward::v1::BytesMessage in, out;
  while (call.Read(&in)) {
    pending += in.data();
    while (pending.size() >= 4) {
      const auto* p = reinterpret_cast<const unsigned char*>(pending.data());
      const uint32_t length = (uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
      if (length > (1u << 20)) return absl::InvalidArgumentError("oversized SSH agent request");
      if (pending.size() < 4 + length) break;
      const std::string body = pending.substr(4, length);
      pending.erase(0, 4 + length);
      std::string response;
      if (agent->keys) {
        response = agent->keys->Handle(body);
      } else {
        absl::StatusOr<std::string> answer = socket_agent.Answer(body);
        if (!answer.ok()) return answer.status();
        response = *std::move(answer);
      }
      const size_t size = response.size();
      out.set_data(absl::StrCat(std::string{static_cast<char>(size >> 24), static_cast<char>(size >> 16),
                                            static_cast<char>(size >> 8), static_cast<char>(size)},
                                response));
      if (!call.Write(out)) return absl::CancelledError("ssh forwarding cancelled");
    }
  }
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

std::vector<SessionMethod> FileSendMethods(std::map<int, FileSendTarget> targets) {
  return {{"/moby.filesync.v1.FileSend/DiffCopy", [targets = std::move(targets)](SessionCall& call) {
             return ReceiveOutput(call, targets);
           }}};
}

std::vector<SessionMethod> AuthMethods(std::shared_ptr<const CredentialStore> credentials) {
  if (credentials == nullptr) credentials = std::make_shared<const CredentialStore>();
  using moby::filesync::v1::CredentialsRequest;
  using moby::filesync::v1::CredentialsResponse;
  auto unimplemented = [](const char* name) {
    return SessionMethod{absl::StrCat("/moby.filesync.v1.Auth/", name), [name](SessionCall&) {
                           return absl::UnimplementedError(absl::StrCat("method ", name, " not implemented"));
                         }};
  };
  return {Unary<CredentialsRequest, CredentialsResponse>(
              "/moby.filesync.v1.Auth/Credentials",
              [credentials](SessionCall&, const CredentialsRequest& request,
                            CredentialsResponse* response) {
                return Credentials(*credentials, request, response);
              }),
          unimplemented("FetchToken"), unimplemented("GetTokenAuthority"),
          unimplemented("VerifyTokenAuthority")};
}

std::vector<SessionMethod> SecretsMethods(std::vector<BuildSecret> secrets) {
  using moby::buildkit::secrets::v1::GetSecretRequest;
  using moby::buildkit::secrets::v1::GetSecretResponse;
  return {Unary<GetSecretRequest, GetSecretResponse>(
      "/moby.buildkit.secrets.v1.Secrets/GetSecret",
      [secrets = std::move(secrets)](SessionCall&, const GetSecretRequest& request,
                                     GetSecretResponse* response) {
        return GetSecret(secrets, request, response);
      })};
}

std::vector<SessionMethod> SshMethods(std::vector<SshForward> agents) {
  using moby::sshforward::v1::CheckAgentRequest;
  using moby::sshforward::v1::CheckAgentResponse;
  auto shared = std::make_shared<const std::vector<SshForward>>(std::move(agents));
  return {Unary<CheckAgentRequest, CheckAgentResponse>(
              "/moby.sshforward.v1.SSH/CheckAgent",
              [shared](SessionCall&, const CheckAgentRequest& request, CheckAgentResponse*) {
                if (FindAgent(*shared, request.id().empty() ? "default" : request.id()) == nullptr) {
                  return absl::UnknownError(absl::StrCat("unset ssh forward key ", request.id()));
                }
                return absl::OkStatus();
              }),
          {"/moby.sshforward.v1.SSH/ForwardAgent",
           [shared](SessionCall& call) { return ForwardAgent(call, *shared); }}};
}

std::vector<SessionMethod> HealthMethods() {
  using grpc::health::v1::HealthCheckRequest;
  using grpc::health::v1::HealthCheckResponse;
  return {Unary<HealthCheckRequest, HealthCheckResponse>(
              "/grpc.health.v1.Health/Check",
              [](SessionCall&, const HealthCheckRequest&, HealthCheckResponse* response) {
                response->set_status(HealthCheckResponse::SERVING);
                return absl::OkStatus();
              }),
          {"/grpc.health.v1.Health/Watch", [](SessionCall& call) {
             HealthCheckRequest request;
             if (!call.Read(&request)) return absl::InvalidArgumentError("no request message");
             HealthCheckResponse response;
             response.set_status(HealthCheckResponse::SERVING);
             if (!call.Write(response)) return absl::OkStatus();
             while (!call.WaitCancelled(std::chrono::hours(1))) {
             }
             return absl::OkStatus();
           }}};
}

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
