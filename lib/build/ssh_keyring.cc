// The in-process SSH agent: requests of draft-miller-ssh-agent answered with signatures in
// RFC 5656 / RFC 8709 / RFC 8332 wire formats, by the keys ssh_key_file loads.
#include "lib/build/ssh_keyring.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <utility>

#include "lib/build/ssh_key_file.h"
#include "lib/build/ssh_wire.h"
#include "lib/core/openssl_ptr.h"

namespace kim::build {
namespace {

using Key = SshKeyring::Key;

std::string Failure() { return std::string(1, static_cast<char>(kSshAgentFailure)); }

// --- Signing -----------------------------------------------------------------------------------

// Signs `data` with `pkey` (and `md`, nullptr for ed25519), returning OpenSSL's signature bytes
// or "" on failure.
std::string DigestSign(EVP_PKEY* pkey, const EVP_MD* md, absl::string_view data) {
  OpenSslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  static const unsigned char kEmpty = 0;
  const auto* in =
      data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  size_t len = 0;
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    ERR_clear_error();
    return "";
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     data.size()) != 1) {
    ERR_clear_error();
    return "";
  }
  sig.resize(len);
  return sig;
}

// The SSH signature blob (string algorithm, string signature) for `data`, or "" on failure.
std::string SignatureBlob(const Key& key, absl::string_view data, uint32_t flags) {
  std::string blob;
  switch (key.kind) {
    case Key::Kind::kEd25519: {
      const std::string sig = DigestSign(key.pkey.get(), nullptr, data);
      if (sig.size() != 64) return "";
      PutString(&blob, "ssh-ed25519");
      PutString(&blob, sig);
      return blob;
    }
    case Key::Kind::kRsa: {
      const char* algorithm = "ssh-rsa";
      const EVP_MD* md = EVP_sha1();
      if ((flags & kSshAgentRsaSha2_512) != 0) {
        algorithm = "rsa-sha2-512";
        md = EVP_sha512();
      } else if ((flags & kSshAgentRsaSha2_256) != 0) {
        algorithm = "rsa-sha2-256";
        md = EVP_sha256();
      }
      const std::string sig = DigestSign(key.pkey.get(), md, data);
      if (sig.empty()) return "";
      PutString(&blob, algorithm);
      PutString(&blob, sig);
      return blob;
    }
    case Key::Kind::kEcdsa: {
      const std::string der = DigestSign(key.pkey.get(), key.ecdsa_digest, data);
      const auto* p = reinterpret_cast<const unsigned char*>(der.data());
      OpenSslPtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
      if (der.empty() || sig == nullptr) {
        ERR_clear_error();
        return "";
      }
      std::string rs;
      PutMpint(&rs, ECDSA_SIG_get0_r(sig.get()));
      PutMpint(&rs, ECDSA_SIG_get0_s(sig.get()));
      PutString(&blob, key.key_type);
      PutString(&blob, rs);
      return blob;
    }
  }
  return "";
}

}  // namespace

// --- SshKeyring --------------------------------------------------------------------------------

SshKeyring::SshKeyring() = default;
SshKeyring::SshKeyring(SshKeyring&&) noexcept = default;
SshKeyring& SshKeyring::operator=(SshKeyring&&) noexcept = default;
SshKeyring::~SshKeyring() = default;

absl::StatusOr<SshKeyring> SshKeyring::Load(const std::vector<std::string>& paths) {
  SshKeyring keyring;
  for (const std::string& path : paths) {
    auto key = LoadSshKeyFile(path);
    if (!key.ok()) return key.status();
    keyring.keys_.push_back(*std::move(key));
  }
  return keyring;
}

std::vector<SshKeyring::Identity> SshKeyring::identities() const {
  std::vector<Identity> out;
  out.reserve(keys_.size());
  for (const auto& key : keys_) out.push_back({key->blob, key->comment});
  return out;
}

std::string SshKeyring::Handle(absl::string_view request) const {
  WireReader in(request);
  uint8_t type;
  if (!in.Byte(&type)) return Failure();
  switch (type) {
    case kSshAgentcRequestIdentities:
      return in.empty() ? ListIdentities() : Failure();
    case kSshAgentcSignRequest:
      return Sign(in.rest());
    default:
      return Failure();
  }
}

std::string SshKeyring::ListIdentities() const {
  std::string out;
  PutByte(&out, kSshAgentIdentitiesAnswer);
  PutU32(&out, static_cast<uint32_t>(keys_.size()));
  for (const auto& key : keys_) {
    PutString(&out, key->blob);
    PutString(&out, key->comment);
  }
  return out;
}

std::string SshKeyring::Sign(absl::string_view payload) const {
  WireReader in(payload);
  absl::string_view blob, data;
  uint32_t flags;
  if (!in.String(&blob) || !in.String(&data) || !in.U32(&flags) || !in.empty()) return Failure();
  for (const auto& key : keys_) {
    if (key->blob != blob) continue;
    const std::string signature = SignatureBlob(*key, data, flags);
    if (signature.empty()) return Failure();
    std::string out;
    PutByte(&out, kSshAgentSignResponse);
    PutString(&out, signature);
    return out;
  }
  return Failure();
}

}  // namespace kim::build
