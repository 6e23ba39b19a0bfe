// SSH private key files: OpenSSH "openssh-key-v1" (ed25519, rsa, ecdsa nistp256/384/521) and PEM
// (PKCS#1 RSA, SEC1 EC, PKCS#8) parsed into OpenSSL keys with their SSH public blobs. Internal.
#ifndef KIM_LIB_BUILD_SSH_KEY_FILE_H_
#define KIM_LIB_BUILD_SSH_KEY_FILE_H_

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/build/ssh_keyring.h"
#include "lib/core/openssl_ptr.h"

namespace kim::build {

// One private key as the agent uses it.
struct SshKeyring::Key {
  enum class Kind { kEd25519, kRsa, kEcdsa };
  Kind kind;
  OpenSslPtr<EVP_PKEY> pkey;
  std::string key_type;  // "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", ...
  std::string blob;      // the public key in wire format
  std::string comment;
  const EVP_MD* ecdsa_digest = nullptr;  // by curve, for ECDSA keys
};

// Loads one key file of either format. NotFound/PermissionDenied for a file that cannot be read,
// FailedPrecondition for a key encrypted with a passphrase, InvalidArgument for anything else
// it cannot use; every message names the file.
absl::StatusOr<std::unique_ptr<SshKeyring::Key>> LoadSshKeyFile(const std::string& path);

// Parses the text of a key file (as LoadSshKeyFile does once it has read it); `path` names it in
// messages. FailedPrecondition for a key encrypted with a passphrase, InvalidArgument otherwise.
absl::StatusOr<std::unique_ptr<SshKeyring::Key>> ParseSshKey(absl::string_view text,
                                                             const std::string& path);

}  // namespace kim::build

#endif  // KIM_LIB_BUILD_SSH_KEY_FILE_H_
