// OpenSSL 3 certificate generation and inspection for the builder's PKI.
#include "lib/kube/pki.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/core/openssl_ptr.h"

namespace kim::kube {
namespace {


std::string OpenSslError(const std::string& what) {
  std::string out = what;
  if (unsigned long code = ERR_get_error(); code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    absl::StrAppend(&out, ": ", buffer);
  }
  ERR_clear_error();
  return out;
}

std::string ToPem(X509* cert) {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

std::string ToPem(EVP_PKEY* key) {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

OpenSslPtr<X509> ParseCert(const std::string& pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return OpenSslPtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

OpenSslPtr<EVP_PKEY> ParseKey(const std::string& pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return OpenSslPtr<EVP_PKEY>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  OpenSslPtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return absl::InternalError(OpenSslError(absl::StrCat("cannot add extension ", value)));
  }
  return absl::OkStatus();
}

absl::StatusOr<KeyPair> Make(const std::string& common_name, absl::Duration validity,
                             X509* issuer_cert, EVP_PKEY* issuer_key, bool ca,
                             const CertificateRequest* leaf) {
  OpenSslPtr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (key == nullptr) return absl::InternalError(OpenSslError("cannot generate a P-256 key"));
  OpenSslPtr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  OpenSslPtr<BIGNUM> serial(BN_new());
  BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  // Backdated a little: clocks of the workstation and the node differ.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), absl::ToInt64Seconds(validity));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  if (ca) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("kim"), -1, -1, 0);
  }
  X509* issuer = issuer_cert != nullptr ? issuer_cert : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer));
  X509_set_pubkey(cert.get(), key.get());
  std::vector<std::pair<int, std::string>> extensions;
  if (ca) {
    extensions = {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                  {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                  {NID_subject_key_identifier, "hash"}};
  } else {
    std::vector<std::string> usages;
    if (leaf->server_auth) usages.push_back("serverAuth");
    if (leaf->client_auth) usages.push_back("clientAuth");
    extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                  {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                  {NID_subject_key_identifier, "hash"},
                  {NID_authority_key_identifier, "keyid:always"}};
    if (!usages.empty()) extensions.push_back({NID_ext_key_usage, absl::StrJoin(usages, ",")});
    std::vector<std::string> sans;
    for (const auto& dns : leaf->dns_names) sans.push_back("DNS:" + dns);
    for (const auto& ip : leaf->ip_addresses) sans.push_back("IP:" + ip);
    if (!sans.empty()) extensions.push_back({NID_subject_alt_name, absl::StrJoin(sans, ",")});
  }
  for (const auto& [nid, value] : extensions) {
    if (absl::Status s = AddExtension(cert.get(), issuer, nid, value); !s.ok()) return s;
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key.get(), EVP_sha256()) == 0) {
    return absl::InternalError(OpenSslError("cannot sign the certificate"));
  }
  return KeyPair{ToPem(cert.get()), ToPem(key.get())};
}

absl::Time ToTime(const ASN1_TIME* time) {
  struct tm tm {};
  ASN1_TIME_to_tm(time, &tm);
  return absl::FromUnixSeconds(timegm(&tm));
}

}  // namespace

absl::StatusOr<KeyPair> NewCertificateAuthority(const std::string& common_name,
                                                absl::Duration validity) {
  return Make(common_name, validity, nullptr, nullptr, true, nullptr);
}

absl::StatusOr<KeyPair> IssueCertificate(const KeyPair& ca, const CertificateRequest& request) {
  OpenSslPtr<X509> ca_cert = ParseCert(ca.cert_pem);
  OpenSslPtr<EVP_PKEY> ca_key = ParseKey(ca.key_pem);
  if (ca_cert == nullptr || ca_key == nullptr) {
    return absl::InvalidArgumentError("the CA certificate or key does not parse");
  }
  return Make(request.common_name, request.validity, ca_cert.get(), ca_key.get(), false, &request);
}

absl::StatusOr<CertificateInfo> InspectCertificate(const std::string& pem) {
  OpenSslPtr<X509> cert = ParseCert(pem);
  if (cert == nullptr) return absl::InvalidArgumentError("not a PEM certificate");
  CertificateInfo info;
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
  info.common_name = cn;
  info.not_before = ToTime(X509_get0_notBefore(cert.get()));
  info.not_after = ToTime(X509_get0_notAfter(cert.get()));
  info.is_ca = X509_check_ca(cert.get()) != 0;
  const uint32_t usages = X509_get_extended_key_usage(cert.get());  // UINT32_MAX: no extension
  info.server_auth = usages != UINT32_MAX && (usages & XKU_SSL_SERVER) != 0;
  info.client_auth = usages != UINT32_MAX && (usages & XKU_SSL_CLIENT) != 0;
  OpenSslPtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* s = name->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  ASN1_STRING_length(s));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = name->d.iPAddress;
      char text[64] = {};
      const int length = ASN1_STRING_length(s);
      if (length == 4 || length == 16) {
        inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof(text));
        info.ip_addresses.emplace_back(text);
      }
    }
  }
  return info;
}

absl::Status CheckKeyPair(const std::string& ca_pem, const KeyPair& pair) {
  OpenSslPtr<X509> ca = ParseCert(ca_pem);
  OpenSslPtr<X509> cert = ParseCert(pair.cert_pem);
  OpenSslPtr<EVP_PKEY> key = ParseKey(pair.key_pem);
  if (ca == nullptr) return absl::InvalidArgumentError("the CA certificate does not parse");
  if (cert == nullptr) return absl::InvalidArgumentError("the certificate does not parse");
  if (key == nullptr) return absl::InvalidArgumentError("the private key does not parse");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the private key does not belong to the certificate");
  }
  OpenSslPtr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  OpenSslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("the certificate does not verify against the CA: ",
                                                   X509_verify_cert_error_string(error)));
  }
  return absl::OkStatus();
}

}  // namespace kim::kube
