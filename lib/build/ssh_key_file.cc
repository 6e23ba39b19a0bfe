// SSH private key files parsed into OpenSSL keys (RFC 4253 / RFC 5656 / RFC 8709 public blobs).
#include "lib/build/ssh_key_file.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/build/ssh_wire.h"

namespace kim::build {
namespace {

// The oldest queued OpenSSL error as text (for messages), clearing the queue so that it does not
// leak into unrelated TLS code running on this thread later.
std::string TakeOpenSslError() {
  const unsigned long code = ERR_peek_error();
  std::string text = "unknown OpenSSL error";
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    if (reason != nullptr) text = reason;
  }
  ERR_clear_error();
  return text;
}

// A std::string holding sensitive bytes that is wiped when it goes away.
class SecretBytes {
 public:
  explicit SecretBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  ~SecretBytes() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  const std::string& get() const { return bytes_; }

 private:
  std::string bytes_;
};

using Key = SshKeyring::Key;

// What kim needs to know about one of the NIST curves OpenSSH supports.
struct Curve {
  const char* ssh_name;      // "nistp256"
  const char* openssl_name;  // "prime256v1"
  const char* nist_name;     // "P-256", another name OpenSSL may report
  const EVP_MD* (*digest)();
};
constexpr Curve kCurves[] = {
    {"nistp256", "prime256v1", "P-256", EVP_sha256},
    {"nistp384", "secp384r1", "P-384", EVP_sha384},
    {"nistp521", "secp521r1", "P-521", EVP_sha512},
};

const Curve* CurveBySshName(absl::string_view name) {
  for (const Curve& c : kCurves) {
    if (name == c.ssh_name) return &c;
  }
  return nullptr;
}

const Curve* CurveByOpenSslName(absl::string_view name) {
  for (const Curve& c : kCurves) {
    if (name == c.openssl_name || name == c.nist_name) return &c;
  }
  return nullptr;
}

absl::Status KeyError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("SSH key \"", path, "\": ", what));
}

absl::Status EncryptedError(const std::string& path) {
  return absl::FailedPreconditionError(absl::StrCat(
      "SSH key \"", path,
      "\" is encrypted with a passphrase; add it to an ssh-agent and use --ssh ID=$SSH_AUTH_SOCK"));
}

// Fills in key_type, blob and (for ECDSA) the digest from the key itself, so that keys from
// either file format are described the same way.
absl::Status DescribePublicKey(const std::string& path, Key* key) {
  EVP_PKEY* pkey = key->pkey.get();
  std::string blob;
  if (EVP_PKEY_is_a(pkey, "ED25519")) {
    unsigned char pub[32];
    size_t len = sizeof(pub);
    if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != sizeof(pub)) {
      return KeyError(path, absl::StrCat("cannot read the ed25519 public key: ",
                                         TakeOpenSslError()));
    }
    key->kind = Key::Kind::kEd25519;
    key->key_type = "ssh-ed25519";
    PutString(&blob, key->key_type);
    PutString(&blob, absl::string_view(reinterpret_cast<const char*>(pub), len));
  } else if (EVP_PKEY_is_a(pkey, "RSA")) {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    const bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
                    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1;
    OpenSslPtr<BIGNUM> own_n(n), own_e(e);
    if (!ok) {
      return KeyError(path, absl::StrCat("cannot read the RSA public key: ", TakeOpenSslError()));
    }
    key->kind = Key::Kind::kRsa;
    key->key_type = "ssh-rsa";
    PutString(&blob, key->key_type);
    PutMpint(&blob, e);
    PutMpint(&blob, n);
  } else if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {};
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       nullptr) != 1) {
      return KeyError(path, absl::StrCat("cannot read the EC curve: ", TakeOpenSslError()));
    }
    const Curve* curve = CurveByOpenSslName(group);
    if (curve == nullptr) {
      return KeyError(path, absl::StrCat("EC curve ", group,
                                         " is not supported by SSH (use P-256, P-384 or P-521)"));
    }
    // SSH wants the uncompressed point; a PEM file may have stored it compressed.
    EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                   OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED);
    ERR_clear_error();
    unsigned char point[1 + 2 * 66];
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
                                        &len) != 1 ||
        len == 0 || point[0] != 0x04) {
      return KeyError(path, absl::StrCat("cannot read the EC public key: ", TakeOpenSslError()));
    }
    key->kind = Key::Kind::kEcdsa;
    key->key_type = absl::StrCat("ecdsa-sha2-", curve->ssh_name);
    key->ecdsa_digest = curve->digest();
    PutString(&blob, key->key_type);
    PutString(&blob, curve->ssh_name);
    PutString(&blob, absl::string_view(reinterpret_cast<const char*>(point), len));
  } else {
    return KeyError(path, absl::StrCat("key type ", EVP_PKEY_get0_type_name(pkey),
                                       " is not supported (use ed25519, RSA or ECDSA)"));
  }
  key->blob = std::move(blob);
  return absl::OkStatus();
}

// Builds an EVP_PKEY of `type` ("RSA", "EC") from OSSL_PARAMs.
absl::StatusOr<OpenSslPtr<EVP_PKEY>> KeyFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  OpenSslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(builder));
  OpenSslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return absl::InvalidArgumentError(TakeOpenSslError());
  }
  return OpenSslPtr<EVP_PKEY>(pkey);
}

// The key fields of an "ssh-ed25519" private key: public key, then seed + public key.
absl::StatusOr<OpenSslPtr<EVP_PKEY>> ParseEd25519(const std::string& path, WireReader* in) {
  absl::string_view pub, priv;
  if (!in->String(&pub) || !in->String(&priv) || pub.size() != 32 || priv.size() != 64 ||
      priv.substr(32) != pub) {
    return KeyError(path, "malformed ed25519 private key");
  }
  OpenSslPtr<EVP_PKEY> pkey(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(priv.data()), 32));
  if (pkey == nullptr) {
    return KeyError(path, absl::StrCat("cannot use the ed25519 key: ", TakeOpenSslError()));
  }
  return pkey;
}

// The key fields of an "ssh-rsa" private key: n, e, d, iqmp, p, q (the CRT exponents are
// derived, as OpenSSH does).
absl::StatusOr<OpenSslPtr<EVP_PKEY>> ParseRsa(const std::string& path, WireReader* in) {
  OpenSslPtr<BIGNUM> n, e, d, iqmp, p, q;
  if (!in->Mpint(&n) || !in->Mpint(&e) || !in->Mpint(&d) || !in->Mpint(&iqmp) || !in->Mpint(&p) ||
      !in->Mpint(&q)) {
    return KeyError(path, "malformed RSA private key");
  }
  // Derive dmp1 = d mod (p-1) and dmq1 = d mod (q-1), and check that the numbers belong
  // together (n = pq, ed = 1 mod p-1 and q-1, q*iqmp = 1 mod p): a corrupt file must not load
  // and then make signatures no server accepts.
  OpenSslPtr<BN_CTX> bn(BN_CTX_new());
  OpenSslPtr<BIGNUM> t(BN_new()), p1(BN_new()), q1(BN_new()), dmp1(BN_new()), dmq1(BN_new());
  const bool consistent =
      bn != nullptr && t != nullptr && p1 != nullptr && q1 != nullptr && dmp1 != nullptr &&
      dmq1 != nullptr && BN_cmp(p.get(), BN_value_one()) > 0 &&
      BN_cmp(q.get(), BN_value_one()) > 0 && !BN_is_zero(e.get()) &&
      BN_mul(t.get(), p.get(), q.get(), bn.get()) == 1 && BN_cmp(t.get(), n.get()) == 0 &&
      BN_sub(p1.get(), p.get(), BN_value_one()) == 1 &&
      BN_sub(q1.get(), q.get(), BN_value_one()) == 1 &&
      BN_mod(dmp1.get(), d.get(), p1.get(), bn.get()) == 1 &&
      BN_mod(dmq1.get(), d.get(), q1.get(), bn.get()) == 1 &&
      BN_mod_mul(t.get(), e.get(), dmp1.get(), p1.get(), bn.get()) == 1 && BN_is_one(t.get()) &&
      BN_mod_mul(t.get(), e.get(), dmq1.get(), q1.get(), bn.get()) == 1 && BN_is_one(t.get()) &&
      BN_mod_mul(t.get(), q.get(), iqmp.get(), p.get(), bn.get()) == 1 && BN_is_one(t.get());
  if (!consistent) {
    ERR_clear_error();
    return KeyError(path, "inconsistent RSA private key (its numbers do not belong together)");
  }
  OpenSslPtr<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_D, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp.get()) != 1) {
    return KeyError(path, absl::StrCat("cannot use the RSA key: ", TakeOpenSslError()));
  }
  auto pkey = KeyFromParams("RSA", builder.get());
  if (!pkey.ok()) {
    return KeyError(path, absl::StrCat("cannot use the RSA key: ", pkey.status().message()));
  }
  return pkey;
}

// The key fields of an "ecdsa-sha2-<curve>" private key: curve name, public point, scalar d.
absl::StatusOr<OpenSslPtr<EVP_PKEY>> ParseEcdsa(const std::string& path, absl::string_view key_type,
                                           WireReader* in) {
  absl::string_view curve_name, point;
  OpenSslPtr<BIGNUM> d;
  if (!in->String(&curve_name) || !in->String(&point) || !in->Mpint(&d)) {
    return KeyError(path, "malformed ECDSA private key");
  }
  const Curve* curve = CurveBySshName(curve_name);
  if (curve == nullptr || key_type != absl::StrCat("ecdsa-sha2-", curve_name)) {
    return KeyError(path, absl::StrCat("unsupported ECDSA curve \"", absl::CHexEscape(curve_name),
                                       "\""));
  }
  OpenSslPtr<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      curve->openssl_name, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
    return KeyError(path, absl::StrCat("cannot use the ECDSA key: ", TakeOpenSslError()));
  }
  auto pkey = KeyFromParams("EC", builder.get());
  if (!pkey.ok()) {
    return KeyError(path, absl::StrCat("cannot use the ECDSA key: ", pkey.status().message()));
  }
  // The public point must belong to the private scalar, or every signature would be wrong.
  OpenSslPtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey->get(), nullptr));
  if (check == nullptr || EVP_PKEY_pairwise_check(check.get()) != 1) {
    ERR_clear_error();
    return KeyError(path, "inconsistent ECDSA private key (public point does not match)");
  }
  return pkey;
}

constexpr absl::string_view kOpenSshBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr absl::string_view kOpenSshEnd = "-----END OPENSSH PRIVATE KEY-----";
constexpr absl::string_view kOpenSshMagic{"openssh-key-v1\0", 15};

// An "openssh-key-v1" file (OpenSSH's PROTOCOL.key): one unencrypted key.
absl::StatusOr<std::unique_ptr<Key>> ParseOpenSshKey(const std::string& path,
                                                     absl::string_view text) {
  const size_t begin = text.find(kOpenSshBegin);
  const size_t end = text.find(kOpenSshEnd);
  if (begin == absl::string_view::npos || end == absl::string_view::npos || end < begin) {
    return KeyError(path, "truncated OpenSSH private key (no END line)");
  }
  std::string base64;
  for (char c : text.substr(begin + kOpenSshBegin.size(), end - begin - kOpenSshBegin.size())) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) base64.push_back(c);
  }
  std::string decoded;
  if (!absl::Base64Unescape(base64, &decoded)) {
    return KeyError(path, "OpenSSH private key is not valid base64");
  }
  const SecretBytes binary(std::move(decoded));

  WireReader in(binary.get());
  absl::string_view magic, cipher, kdf, kdf_options, public_blob, private_section;
  uint32_t key_count;
  if (!in.Bytes(kOpenSshMagic.size(), &magic) || magic != kOpenSshMagic) {
    return KeyError(path, "not an openssh-key-v1 private key");
  }
  if (!in.String(&cipher) || !in.String(&kdf) || !in.String(&kdf_options) || !in.U32(&key_count)) {
    return KeyError(path, "malformed OpenSSH private key header");
  }
  if (cipher != "none" || kdf != "none") return EncryptedError(path);
  if (key_count != 1) {
    return KeyError(path, absl::StrCat("holds ", key_count, " keys; OpenSSH files hold one"));
  }
  if (!in.String(&public_blob) || !in.String(&private_section)) {
    return KeyError(path, "malformed OpenSSH private key");
  }

  WireReader priv(private_section);
  uint32_t check1, check2;
  absl::string_view key_type;
  if (!priv.U32(&check1) || !priv.U32(&check2) || check1 != check2 || !priv.String(&key_type)) {
    return KeyError(path, "corrupt OpenSSH private key (check bytes differ)");
  }
  auto key = std::make_unique<Key>();
  absl::StatusOr<OpenSslPtr<EVP_PKEY>> pkey;
  if (key_type == "ssh-ed25519") {
    pkey = ParseEd25519(path, &priv);
  } else if (key_type == "ssh-rsa") {
    pkey = ParseRsa(path, &priv);
  } else if (absl::StartsWith(key_type, "ecdsa-sha2-")) {
    pkey = ParseEcdsa(path, key_type, &priv);
  } else {
    return KeyError(path, absl::StrCat("key type \"", absl::CHexEscape(key_type),
                                       "\" is not supported (use ed25519, RSA or ECDSA)"));
  }
  if (!pkey.ok()) return pkey.status();
  key->pkey = *std::move(pkey);

  absl::string_view comment;
  if (!priv.String(&comment)) return KeyError(path, "malformed OpenSSH private key (comment)");
  // Padding to the cipher block size: 1, 2, 3, ...
  for (size_t i = 0; i < priv.rest().size(); ++i) {
    if (static_cast<uint8_t>(priv.rest()[i]) != ((i + 1) & 0xff)) {
      return KeyError(path, "malformed OpenSSH private key (padding)");
    }
  }
  if (absl::Status s = DescribePublicKey(path, key.get()); !s.ok()) return s;
  if (key->blob != public_blob) {
    return KeyError(path, "public and private halves of the OpenSSH key do not match");
  }
  key->comment = comment.empty() ? path : std::string(comment);
  return key;
}

// Called by OpenSSL when a PEM key needs a passphrase: records that, and supplies none.
int RefusePassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

// A PEM file: PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY".
absl::StatusOr<std::unique_ptr<Key>> ParsePemKey(const std::string& path,
                                                 absl::string_view text) {
  if (absl::StrContains(text, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
      absl::StrContains(text, "Proc-Type: 4,ENCRYPTED")) {
    return EncryptedError(path);
  }
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  bool asked_passphrase = false;
  EVP_PKEY* pkey = bio == nullptr ? nullptr
                                  : PEM_read_bio_PrivateKey(bio.get(), nullptr, RefusePassphrase,
                                                            &asked_passphrase);
  if (pkey == nullptr) {
    const std::string reason = TakeOpenSslError();
    if (asked_passphrase) return EncryptedError(path);
    return KeyError(path, absl::StrCat("cannot read the PEM private key (", reason, ")"));
  }
  auto key = std::make_unique<Key>();
  key->pkey.reset(pkey);
  if (absl::Status s = DescribePublicKey(path, key.get()); !s.ok()) return s;
  key->comment = path;
  return key;
}

// The contents of a key file, refusing anything too large to be one.
absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  constexpr size_t kMaxKeyFile = 1 << 20;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string message =
        absl::StrCat("cannot read SSH key \"", path, "\": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
    return absl::InvalidArgumentError(message);
  }
  std::string content;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read SSH key \"", path, "\": ", std::strerror(err)));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > kMaxKeyFile) {
      close(fd);
      OPENSSL_cleanse(content.data(), content.size());
      return KeyError(path, "file is too large to be a private key");
    }
  }
  close(fd);
  return content;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SshKeyring::Key>> LoadSshKeyFile(const std::string& path) {
  auto content = ReadKeyFile(path);
  if (!content.ok()) return content.status();
  const SecretBytes text(*std::move(content));
  return ParseSshKey(text.get(), path);
}

absl::StatusOr<std::unique_ptr<SshKeyring::Key>> ParseSshKey(absl::string_view text,
                                                             const std::string& path) {
  if (absl::StrContains(text, kOpenSshBegin)) return ParseOpenSshKey(path, text);
  if (absl::StrContains(text, "-----BEGIN ")) return ParsePemKey(path, text);
  const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(text);
  if (absl::StartsWith(trimmed, "ssh-") || absl::StartsWith(trimmed, "ecdsa-sha2-")) {
    return KeyError(path, "is a public key; pass the private key file (without .pub)");
  }
  return KeyError(path, "is not an OpenSSH or PEM private key");
}

}  // namespace kim::build
