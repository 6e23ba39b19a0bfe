// The builder's mutual-TLS PKI, made by the CLI with OpenSSL: an ECDSA P-256 CA, server and
// client certificates, and inspection of existing ones (expiry, names, issuer). Internal.
#ifndef KIM_LIB_KUBE_PKI_H_
#define KIM_LIB_KUBE_PKI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kim::kube {

// A certificate and its private key, PEM.
struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

struct CertificateRequest {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool server_auth = false;
  bool client_auth = false;
  absl::Duration validity = absl::Hours(24 * 365);
};

// A self-signed CA (basicConstraints CA:TRUE, keyCertSign) with a fresh P-256 key.
absl::StatusOr<KeyPair> NewCertificateAuthority(const std::string& common_name,
                                                absl::Duration validity);

// A leaf certificate signed by `ca`, with a fresh P-256 key.
absl::StatusOr<KeyPair> IssueCertificate(const KeyPair& ca, const CertificateRequest& request);

struct CertificateInfo {
  std::string common_name;
  absl::Time not_before;
  absl::Time not_after;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  bool server_auth = false;  // extended key usage serverAuth
  bool client_auth = false;  // extended key usage clientAuth
};

// Reads the first certificate of `pem`. InvalidArgument when it does not parse.
absl::StatusOr<CertificateInfo> InspectCertificate(const std::string& pem);

// OK when `cert_pem` verifies against `ca_pem` (signature, validity period) and `key_pem` is
// its private key; InvalidArgument saying what is wrong otherwise.
absl::Status CheckKeyPair(const std::string& ca_pem, const KeyPair& pair);

}  // namespace kim::kube

#endif  // KIM_LIB_KUBE_PKI_H_
