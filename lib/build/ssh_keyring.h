// An in-process SSH agent for `kim build --ssh ID=KEYFILE[,KEYFILE]`: private keys loaded from
// files answer the SSH agent protocol (draft-miller-ssh-agent) the way `docker build --ssh`
// serves key files, so the build can use them without a running ssh-agent.
#ifndef KIM_LIB_BUILD_SSH_KEYRING_H_
#define KIM_LIB_BUILD_SSH_KEYRING_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kim::build {

// SSH agent protocol message numbers (draft-miller-ssh-agent section 6.1).
inline constexpr uint8_t kSshAgentFailure = 5;
inline constexpr uint8_t kSshAgentSuccess = 6;
inline constexpr uint8_t kSshAgentcRequestIdentities = 11;
inline constexpr uint8_t kSshAgentIdentitiesAnswer = 12;
inline constexpr uint8_t kSshAgentcSignRequest = 13;
inline constexpr uint8_t kSshAgentSignResponse = 14;

// Flags of a sign request asking for an RSA signature with SHA-2 instead of SHA-1.
inline constexpr uint32_t kSshAgentRsaSha2_256 = 2;
inline constexpr uint32_t kSshAgentRsaSha2_512 = 4;

// Private keys loaded from files that answer SSH agent requests: identities are listed and data
// is signed; every other request gets SSH_AGENT_FAILURE. Immutable once loaded, so Handle may be
// called from several threads at once.
class SshKeyring {
 public:
  // One loaded key as the agent lists it.
  struct Identity {
    std::string key_blob;  // public key, RFC 4253 wire format ("ssh-ed25519", "ssh-rsa", ...)
    std::string comment;   // the key's own comment, or the file path when it has none
  };

  // Loads each file: OpenSSH "openssh-key-v1" private keys (ed25519, rsa, ecdsa nistp256/384/521)
  // and PEM keys (PKCS#1 RSA, SEC1 EC, PKCS#8). Returns NotFound/PermissionDenied for a file that
  // cannot be read, FailedPrecondition for a key encrypted with a passphrase, and
  // InvalidArgument for anything else it cannot use; every message names the file.
  static absl::StatusOr<SshKeyring> Load(const std::vector<std::string>& paths);

  // Answers one agent request: `request` is the message body after its uint32 length (type byte
  // and payload); the result is the response body, without the length prefix. Malformed requests
  // and signing failures are answered with SSH_AGENT_FAILURE.
  std::string Handle(absl::string_view request) const;

  // The loaded keys, in the order of the files.
  std::vector<Identity> identities() const;

  SshKeyring(SshKeyring&&) noexcept;
  SshKeyring& operator=(SshKeyring&&) noexcept;
  ~SshKeyring();

  // One private key with its public blob; defined in ssh_key_file.h.
  struct Key;

 private:
  SshKeyring();
  std::string ListIdentities() const;
  std::string Sign(absl::string_view payload) const;

  std::vector<std::unique_ptr<Key>> keys_;
};

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_SSH_KEYRING_H_
