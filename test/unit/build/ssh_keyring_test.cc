// The in-process SSH agent (lib/build/ssh_keyring.h), checked against the real OpenSSH tools:
// keys made by ssh-keygen, served on a unix socket, listed by ssh-add and used by
// `ssh-keygen -Y sign`, whose signatures `ssh-keygen -Y verify` must accept.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "lib/core/subprocess.h"
#include "lib/build/ssh_keyring.h"
#include "test/support/temp_dir.h"

namespace fs = std::filesystem;
using kim::build::SshKeyring;

namespace {

using kim::test::TempDir;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

kim::ProcessResult Run(const std::vector<std::string>& argv, const std::string& input = "") {
  auto result = kim::RunProcess(argv, input, absl::Seconds(60));
  REQUIRE(result.ok());
  return *result;
}

// Makes a key with ssh-keygen: `extra` e.g. {"-t", "rsa", "-m", "PEM"}.
void Keygen(const std::string& path, std::vector<std::string> extra,
            const std::string& passphrase = "") {
  std::vector<std::string> argv = {"ssh-keygen", "-q", "-N", passphrase, "-C", "kim-test-key",
                                   "-f", path};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const auto result = Run(argv);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
}

// A key made for the tests: its name (a file in KeyDir()) and whether it is in OpenSSH's own
// format (whose comment the agent reports) or PEM (reported by path).
struct TestKey {
  std::string name;
  std::vector<std::string> keygen_args;
  bool openssh_format;
};

const std::vector<TestKey>& TestKeys() {
  static const std::vector<TestKey> keys = {
      {"ed25519", {"-t", "ed25519"}, true},
      {"rsa", {"-t", "rsa", "-b", "2048"}, true},
      {"ecdsa256", {"-t", "ecdsa", "-b", "256"}, true},
      {"ecdsa384", {"-t", "ecdsa", "-b", "384"}, true},
      {"ecdsa521", {"-t", "ecdsa", "-b", "521"}, true},
      {"rsa_pem", {"-t", "rsa", "-b", "2048", "-m", "PEM"}, false},       // PKCS#1
      {"ecdsa_pem", {"-t", "ecdsa", "-b", "256", "-m", "PEM"}, false},    // SEC1
      {"rsa_pkcs8", {"-t", "rsa", "-b", "2048", "-m", "PKCS8"}, false},   // PKCS#8
      {"ecdsa_pkcs8", {"-t", "ecdsa", "-b", "384", "-m", "PKCS8"}, false},
  };
  return keys;
}

// The directory with every TestKeys() key, made once per test process.
const std::string& KeyDir() {
  static TempDir dir;
  static const bool made = [] {
    for (const TestKey& key : TestKeys()) Keygen(dir.path() + "/" + key.name, key.keygen_args);
    return true;
  }();
  (void)made;
  return dir.path();
}

std::vector<std::string> AllKeyPaths() {
  std::vector<std::string> paths;
  for (const TestKey& key : TestKeys()) paths.push_back(KeyDir() + "/" + key.name);
  return paths;
}

bool ReadAll(int fd, char* buf, size_t n) {
  while (n > 0) {
    const ssize_t got = read(fd, buf, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buf += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool WriteAll(int fd, const char* buf, size_t n) {
  while (n > 0) {
    const ssize_t put = write(fd, buf, n);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    buf += put;
    n -= static_cast<size_t>(put);
  }
  return true;
}

// Serves a keyring on a unix socket the way an ssh-agent does (uint32 length + body each way),
// one connection at a time, until destroyed.
class AgentSocket {
 public:
  AgentSocket(const SshKeyring& keyring, std::string path)
      : keyring_(keyring), path_(std::move(path)) {
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof(addr.sun_path));
    std::copy(path_.begin(), path_.end(), addr.sun_path);
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(listen(listen_fd_, 8) == 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~AgentSocket() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
    unlink(path_.c_str());
  }
  AgentSocket(const AgentSocket&) = delete;
  AgentSocket& operator=(const AgentSocket&) = delete;

  const std::string& path() const { return path_; }
  // How many sign requests were answered with a signature.
  int signatures() const { return signatures_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (poll(&pfd, 1, 50) <= 0) continue;
      const int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      const timeval timeout{10, 0};
      setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      for (;;) {
        unsigned char len_bytes[4];
        if (!ReadAll(conn, reinterpret_cast<char*>(len_bytes), 4)) break;
        const uint32_t len = (uint32_t{len_bytes[0]} << 24) | (uint32_t{len_bytes[1]} << 16) |
                             (uint32_t{len_bytes[2]} << 8) | len_bytes[3];
        if (len > 256 * 1024) break;
        std::string body(len, '\0');
        if (!ReadAll(conn, body.data(), len)) break;
        const std::string reply = keyring_.Handle(body);
        if (!body.empty() && body[0] == kim::build::kSshAgentcSignRequest && !reply.empty() &&
            reply[0] == kim::build::kSshAgentSignResponse) {
          ++signatures_;
        }
        const uint32_t n = static_cast<uint32_t>(reply.size());
        const char out_len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                                 static_cast<char>(n >> 8), static_cast<char>(n)};
        if (!WriteAll(conn, out_len, 4) || !WriteAll(conn, reply.data(), reply.size())) break;
      }
      close(conn);
    }
  }

  const SshKeyring& keyring_;
  std::string path_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> signatures_{0};
  std::thread thread_;
};

// `argv` run with SSH_AUTH_SOCK pointing at `agent`.
kim::ProcessResult RunWithAgent(const AgentSocket& agent, std::vector<std::string> argv,
                                const std::string& input = "") {
  argv.insert(argv.begin(), {"env", "SSH_AUTH_SOCK=" + agent.path()});
  return Run(argv, input);
}

// "type base64" of a public key line (without its comment).
std::string KeyOf(const std::string& line) {
  std::vector<std::string> fields = absl::StrSplit(line, absl::ByAnyChar(" \n"), absl::SkipEmpty());
  REQUIRE(fields.size() >= 2);
  return fields[0] + " " + fields[1];
}

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutString(std::string* out, const std::string& s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  *out += s;
}

// A sign request body: type 13, key blob, data, flags.
std::string SignRequest(const std::string& blob, const std::string& data, uint32_t flags) {
  std::string req(1, static_cast<char>(kim::build::kSshAgentcSignRequest));
  PutString(&req, blob);
  PutString(&req, data);
  PutU32(&req, flags);
  return req;
}

// Splits a sign response into the signature algorithm and the raw signature bytes.
void ParseSignResponse(const std::string& response, std::string* algorithm, std::string* sig) {
  REQUIRE(response.size() > 1);
  REQUIRE(response[0] == static_cast<char>(kim::build::kSshAgentSignResponse));
  auto take = [](const std::string& in, size_t* pos) {
    REQUIRE(in.size() >= *pos + 4);
    const auto* b = reinterpret_cast<const unsigned char*>(in.data() + *pos);
    const size_t n = (size_t{b[0]} << 24) | (size_t{b[1]} << 16) | (size_t{b[2]} << 8) | b[3];
    REQUIRE(in.size() >= *pos + 4 + n);
    std::string s = in.substr(*pos + 4, n);
    *pos += 4 + n;
    return s;
  };
  size_t pos = 1;
  const std::string blob = take(response, &pos);
  CHECK(pos == response.size());
  size_t inner = 0;
  *algorithm = take(blob, &inner);
  *sig = take(blob, &inner);
  CHECK(inner == blob.size());
}

const std::string kFailure(1, static_cast<char>(kim::build::kSshAgentFailure));

}  // namespace

TEST_CASE("SshKeyring: ssh-add -L lists every key as its .pub file", "[build][ssh_keyring]") {
  auto keyring = SshKeyring::Load(AllKeyPaths());
  REQUIRE(keyring.ok());
  TempDir dir;
  AgentSocket agent(*keyring, dir.path() + "/agent.sock");

  const auto listed = RunWithAgent(agent, {"ssh-add", "-L"});
  INFO(listed.out << listed.err);
  REQUIRE(listed.exit_code == 0);
  const std::vector<std::string> lines = absl::StrSplit(listed.out, '\n', absl::SkipEmpty());
  REQUIRE(lines.size() == TestKeys().size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const TestKey& key = TestKeys()[i];
    INFO(key.name);
    const std::string path = KeyDir() + "/" + key.name;
    CHECK(KeyOf(lines[i]) == KeyOf(kim::test::FileContent(path + ".pub")));
    // OpenSSH keys carry their comment; PEM keys have none and are listed by path.
    const std::string comment = key.openssh_format ? "kim-test-key" : path;
    CHECK(lines[i] == KeyOf(lines[i]) + " " + comment);
  }
}

TEST_CASE("SshKeyring: signatures made through it pass ssh-keygen -Y verify",
          "[build][ssh_keyring]") {
  auto keyring = SshKeyring::Load(AllKeyPaths());
  REQUIRE(keyring.ok());
  TempDir dir;
  AgentSocket agent(*keyring, dir.path() + "/agent.sock");

  int expected_signatures = 0;
  for (const TestKey& key : TestKeys()) {
    INFO(key.name);
    // Only the public key beside the data: ssh-keygen must sign through the agent.
    const std::string pub = dir.path() + "/" + key.name + ".pub";
    fs::copy_file(KeyDir() + "/" + key.name + ".pub", pub);
    const std::string data = dir.path() + "/" + key.name + ".txt";
    const std::string message = "signed by kim with " + key.name + "\n";
    WriteFile(data, message);

    const auto signed_ = RunWithAgent(agent, {"ssh-keygen", "-Y", "sign", "-f", pub, "-n", "file",
                                              data});
    INFO(signed_.out << signed_.err);
    REQUIRE(signed_.exit_code == 0);
    CHECK(agent.signatures() == ++expected_signatures);

    const std::string allowed = dir.path() + "/" + key.name + ".allowed";
    WriteFile(allowed, "kim " + KeyOf(kim::test::FileContent(pub)) + "\n");
    const auto verified = Run({"ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "kim", "-n",
                               "file", "-s", data + ".sig"},
                              message);
    INFO(verified.out << verified.err);
    CHECK(verified.exit_code == 0);
    // And a tampered message must not verify.
    const auto tampered = Run({"ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "kim", "-n",
                               "file", "-s", data + ".sig"},
                              message + "x");
    CHECK(tampered.exit_code != 0);
  }
}

TEST_CASE("SshKeyring: RSA flags pick ssh-rsa, rsa-sha2-256 or rsa-sha2-512",
          "[build][ssh_keyring]") {
  const std::string path = KeyDir() + "/rsa_pem";
  auto keyring = SshKeyring::Load({path});
  REQUIRE(keyring.ok());
  const std::string blob = keyring->identities().at(0).key_blob;

  // Check the signatures independently of kim with the PEM file read by OpenSSL.
  const std::string pem = kim::test::FileContent(path);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(pkey != nullptr);

  const std::string data = "data to sign";
  const struct {
    uint32_t flags;
    const char* algorithm;
    const EVP_MD* md;
  } cases[] = {
      {0, "ssh-rsa", EVP_sha1()},
      {kim::build::kSshAgentRsaSha2_256, "rsa-sha2-256", EVP_sha256()},
      {kim::build::kSshAgentRsaSha2_512, "rsa-sha2-512", EVP_sha512()},
      {kim::build::kSshAgentRsaSha2_256 | kim::build::kSshAgentRsaSha2_512, "rsa-sha2-512",
       EVP_sha512()},
  };
  for (const auto& c : cases) {
    INFO(c.algorithm);
    std::string algorithm, sig;
    ParseSignResponse(keyring->Handle(SignRequest(blob, data, c.flags)), &algorithm, &sig);
    CHECK(algorithm == c.algorithm);
    CHECK(sig.size() == 256);  // the modulus size of a 2048-bit key
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    REQUIRE(EVP_DigestVerifyInit(ctx, nullptr, c.md, nullptr, pkey) == 1);
    CHECK(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                           reinterpret_cast<const unsigned char*>(data.data()),
                           data.size()) == 1);
    EVP_MD_CTX_free(ctx);
  }
  EVP_PKEY_free(pkey);
}

TEST_CASE("SshKeyring: the identities answer and signature blobs", "[build][ssh_keyring]") {
  auto keyring = SshKeyring::Load({KeyDir() + "/ed25519", KeyDir() + "/ecdsa256"});
  REQUIRE(keyring.ok());
  const auto ids = keyring->identities();
  REQUIRE(ids.size() == 2);

  std::string expected(1, static_cast<char>(kim::build::kSshAgentIdentitiesAnswer));
  PutU32(&expected, 2);
  for (const auto& id : ids) {
    PutString(&expected, id.key_blob);
    PutString(&expected, id.comment);
  }
  CHECK(keyring->Handle(std::string(1, '\x0b')) == expected);

  std::string algorithm, sig;
  ParseSignResponse(keyring->Handle(SignRequest(ids[0].key_blob, "", 0)), &algorithm, &sig);
  CHECK(algorithm == "ssh-ed25519");
  CHECK(sig.size() == 64);
  ParseSignResponse(keyring->Handle(SignRequest(ids[1].key_blob, "x", 0)), &algorithm, &sig);
  CHECK(algorithm == "ecdsa-sha2-nistp256");

  // No keys at all is a valid, empty keyring.
  auto empty = SshKeyring::Load({});
  REQUIRE(empty.ok());
  CHECK(empty->Handle(std::string(1, '\x0b')) == std::string("\x0c\0\0\0\0", 5));
}

TEST_CASE("SshKeyring: encrypted keys are refused with advice naming the file",
          "[build][ssh_keyring]") {
  TempDir dir;
  const std::vector<std::pair<std::string, std::vector<std::string>>> encrypted = {
      {"openssh", {"-t", "ed25519"}},
      {"pem", {"-t", "rsa", "-b", "2048", "-m", "PEM"}},
      {"pkcs8", {"-t", "ecdsa", "-m", "PKCS8"}},
  };
  for (const auto& [name, args] : encrypted) {
    INFO(name);
    const std::string path = dir.path() + "/" + name;
    Keygen(path, args, "secret");
    auto keyring = SshKeyring::Load({KeyDir() + "/ed25519", path});
    REQUIRE_FALSE(keyring.ok());
    CHECK(keyring.status().code() == absl::StatusCode::kFailedPrecondition);
    const std::string message(keyring.status().message());
    CHECK(message.find(path) != std::string::npos);
    CHECK(message.find("is encrypted with a passphrase") != std::string::npos);
    CHECK(message.find("--ssh ID=$SSH_AUTH_SOCK") != std::string::npos);
  }
}

TEST_CASE("SshKeyring: unusable key files are refused by name", "[build][ssh_keyring]") {
  TempDir dir;
  const std::string missing = dir.path() + "/missing";
  auto keyring = SshKeyring::Load({missing});
  REQUIRE_FALSE(keyring.ok());
  CHECK(keyring.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(keyring.status().message()).find(missing) != std::string::npos);

  const std::string pub = KeyDir() + "/ed25519.pub";
  keyring = SshKeyring::Load({pub});
  REQUIRE_FALSE(keyring.ok());
  CHECK(keyring.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(keyring.status().message()).find("is a public key") != std::string::npos);

  // A file cut anywhere before its END line is complete is refused, never a crash.
  const std::string cut = dir.path() + "/cut";
  for (const std::string name : {"ed25519", "rsa", "ecdsa521", "rsa_pem", "ecdsa_pkcs8"}) {
    const std::string whole = kim::test::FileContent(KeyDir() + "/" + name);
    const size_t end = whole.find("-----END");
    REQUIRE(end != std::string::npos);
    for (size_t len = 0; len < end + 12; len += 3) {
      WriteFile(cut, whole.substr(0, len));
      INFO(name << " cut at " << len);
      CHECK_FALSE(SshKeyring::Load({cut}).ok());
    }
  }

  // Every truncation of the binary inside an OpenSSH key, re-encoded whole.
  for (const std::string name : {"ed25519", "rsa", "ecdsa256"}) {
    const std::string whole = kim::test::FileContent(KeyDir() + "/" + name);
    const size_t body = whole.find('\n') + 1;
    const size_t end = whole.find("-----END");
    std::string base64;
    for (char c : whole.substr(body, end - body)) {
      if (c != '\n') base64 += c;
    }
    std::string binary;
    REQUIRE(absl::Base64Unescape(base64, &binary));
    for (size_t len = 0; len < binary.size(); ++len) {
      WriteFile(cut, whole.substr(0, body) + absl::Base64Escape(binary.substr(0, len)) + "\n" +
                         whole.substr(end));
      INFO(name << " binary cut at " << len);
      CHECK_FALSE(SshKeyring::Load({cut}).ok());
    }
  }

  // Flipped bytes inside an OpenSSH key's body: either refused or (when only the comment or
  // padding changed) loaded; never a crash.
  const std::string whole = kim::test::FileContent(KeyDir() + "/ecdsa256");
  std::mt19937 rng(7);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const size_t body_begin = whole.find('\n') + 1;
  const size_t body_end = whole.find("-----END");
  for (int i = 0; i < 300; ++i) {
    std::string mutated = whole;
    const size_t at = body_begin + rng() % (body_end - body_begin);
    if (mutated[at] == '\n') continue;
    mutated[at] = alphabet[rng() % alphabet.size()];
    WriteFile(dir.path() + "/mutated", mutated);
    (void)SshKeyring::Load({dir.path() + "/mutated"});
  }

  WriteFile(dir.path() + "/garbage", "not a key at all\n");
  keyring = SshKeyring::Load({KeyDir() + "/ed25519", dir.path() + "/garbage"});
  REQUIRE_FALSE(keyring.ok());
  CHECK(std::string(keyring.status().message()).find(dir.path() + "/garbage") !=
        std::string::npos);
}

TEST_CASE("SshKeyring: unknown keys and malformed requests get SSH_AGENT_FAILURE",
          "[build][ssh_keyring]") {
  auto keyring = SshKeyring::Load({KeyDir() + "/ed25519", KeyDir() + "/rsa"});
  REQUIRE(keyring.ok());
  auto other = SshKeyring::Load({KeyDir() + "/ecdsa384"});
  REQUIRE(other.ok());
  const std::string blob = keyring->identities().at(0).key_blob;

  // A key the keyring does not hold.
  CHECK(keyring->Handle(SignRequest(other->identities().at(0).key_blob, "data", 0)) == kFailure);
  CHECK(keyring->Handle(SignRequest(blob + "x", "data", 0)) == kFailure);
  CHECK(keyring->Handle(SignRequest("", "data", 0)) == kFailure);

  // Requests the keyring does not implement: add/remove identities, lock, extensions...
  CHECK(keyring->Handle("") == kFailure);
  for (int type : {1, 5, 9, 12, 14, 17, 18, 19, 22, 23, 25, 26, 27, 255}) {
    CHECK(keyring->Handle(std::string(1, static_cast<char>(type)) + "payload") == kFailure);
  }
  CHECK(keyring->Handle(std::string("\x0b", 1) + "trailing") == kFailure);

  // Every truncation of a valid sign request, and trailing bytes after one.
  const std::string valid = SignRequest(blob, "data", 0);
  REQUIRE(keyring->Handle(valid)[0] == static_cast<char>(kim::build::kSshAgentSignResponse));
  for (size_t len = 0; len < valid.size(); ++len) {
    INFO("cut at " << len);
    CHECK(keyring->Handle(valid.substr(0, len)) == kFailure);
  }
  CHECK(keyring->Handle(valid + "x") == kFailure);

  // Lengths that point past the end.
  std::string huge(1, static_cast<char>(kim::build::kSshAgentcSignRequest));
  PutU32(&huge, 0xffffffff);
  huge += blob;
  CHECK(keyring->Handle(huge) == kFailure);

  // Random bytes after a sign request type, and random mutations of a valid request.
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string garbage(rng() % 64, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    const std::string reply =
        keyring->Handle(std::string(1, static_cast<char>(13 - (i % 3))) + garbage);
    CHECK_FALSE(reply.empty());

    std::string mutated = valid;
    mutated[1 + rng() % (mutated.size() - 1)] = static_cast<char>(rng());
    CHECK_FALSE(keyring->Handle(mutated).empty());
  }
}

TEST_CASE("SshKeyring: answers from several threads at once", "[build][ssh_keyring]") {
  auto keyring = SshKeyring::Load({KeyDir() + "/ed25519", KeyDir() + "/ecdsa256"});
  REQUIRE(keyring.ok());
  const auto ids = keyring->identities();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string reply =
            keyring->Handle(SignRequest(ids[(t + i) % 2].key_blob, std::to_string(i), 0));
        if (!reply.empty() && reply[0] == static_cast<char>(kim::build::kSshAgentSignResponse)) {
          ++good;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(good == 200);
}
