// The builder's mutual-TLS PKI in Secrets: a CA no pod mounts, the server certificate (renewed
// when near expiry or when the builder's names change) and the client certificate.
#include "lib/kube/installer_pki.h"

#include <arpa/inet.h>

#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/object_helpers.h"
#include "lib/kube/pki.h"

namespace kim::kube {
namespace {

constexpr absl::Duration kRenewBefore = absl::Hours(24 * 30);
constexpr absl::Duration kCaValidity = absl::Hours(24 * 3650);
constexpr absl::Duration kLeafValidity = absl::Hours(24 * 365);

// Whether `text` is an IPv4 or IPv6 address (else a DNS name).
bool IsIpAddress(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// Reads and writes the three TLS Secrets of one namespace.
class PkiSecrets {
 public:
  PkiSecrets(Client& client, const std::string& ns, const Progress& progress)
      : client_(client), ns_(ns), progress_(progress) {}

  // The CA, kept or (re)generated; sets *renewed when it is new.
  absl::StatusOr<KeyPair> EnsureCa(bool* renewed);
  // The server certificate for `names`, kept or (re)issued by `ca`.
  absl::StatusOr<KeyPair> EnsureServer(const KeyPair& ca, bool ca_new, const ServerNames& names);
  // The client certificate, kept or (re)issued by `ca`.
  absl::Status EnsureClient(const KeyPair& ca, bool ca_new);

 private:
  absl::StatusOr<std::optional<Json>> Load(const char* name) {
    auto secret = client_.Get(kSecrets, ns_, name);
    if (secret.ok()) return std::optional<Json>(*secret);
    if (absl::IsNotFound(secret.status())) return std::optional<Json>();
    return secret.status();
  }
  absl::Status Write(const char* name, const KeyPair& pair, const std::string& ca_pem) {
    Json desired = TlsSecretObject(name, ns_, pair.cert_pem, pair.key_pem, ca_pem);
    return client_
        .CreateOrUpdate(kSecrets, ns_, name,
                        [&](std::optional<Json>& object) -> absl::StatusOr<bool> {
                          if (!object) {
                            object = desired;
                          } else {
                            (*object)["data"] = desired.at("data");
                            (*object)["metadata"]["labels"] = desired.at("metadata").at("labels");
                          }
                          return true;
                        })
        .status();
  }

  Client& client_;
  const std::string& ns_;
  const Progress& progress_;
};

absl::StatusOr<KeyPair> PkiSecrets::EnsureCa(bool* renewed) {
  const absl::Time now = absl::Now();
  // CA: kept in a Secret that no pod mounts, so that server certificates can be renewed
  // without invalidating the client certificate.
  auto ca_secret = Load(kCaSecret);
  if (!ca_secret.ok()) return ca_secret.status();
  KeyPair ca;
  bool ca_new = true;
  if (*ca_secret) {
    ca = {DecodedField(**ca_secret, "tls.crt"), DecodedField(**ca_secret, "tls.key")};
    auto info = InspectCertificate(ca.cert_pem);
    ca_new = !info.ok() || !info->is_ca || info->not_after - now < kRenewBefore ||
             !CheckKeyPair(ca.cert_pem, ca).ok();
  }
  if (ca_new) {
    Say(progress_, "Generating the builder's certificate authority");
    auto generated = NewCertificateAuthority("kim-ca", kCaValidity);
    if (!generated.ok()) return generated.status();
    ca = *generated;
    if (absl::Status s = Write(kCaSecret, ca, ""); !s.ok()) return s;
  }
  *renewed = ca_new;
  return ca;
}

absl::StatusOr<KeyPair> PkiSecrets::EnsureServer(const KeyPair& ca, bool ca_new,
                                                 const ServerNames& names) {
  const absl::Time now = absl::Now();
  // Server: names every served node (and the override address), renewed when they change.
  std::set<std::string> dns = {absl::StrCat(kBuilderName, ".", ns_, ".svc"),
                               absl::StrCat(kBuilderName, ".", ns_, ".svc.cluster.local"),
                               "localhost"};
  std::set<std::string> ips = {"127.0.0.1"};
  for (const auto& h : names.hostnames) dns.insert(h);
  for (const auto& ip : names.ips) ips.insert(ip);
  if (!names.endpoint_addr.empty()) {
    (IsIpAddress(names.endpoint_addr) ? ips : dns).insert(names.endpoint_addr);
  }
  auto server_secret = Load(kServerSecret);
  if (!server_secret.ok()) return server_secret.status();
  KeyPair server;
  std::string reason = ca_new ? "new certificate authority" : "missing";
  if (*server_secret && !ca_new) {
    server = {DecodedField(**server_secret, "tls.crt"), DecodedField(**server_secret, "tls.key")};
    auto info = InspectCertificate(server.cert_pem);
    if (!info.ok() || !CheckKeyPair(ca.cert_pem, server).ok() ||
        DecodedField(**server_secret, "ca.crt") != ca.cert_pem) {
      reason = "invalid";
    } else if (info->not_after - now < kRenewBefore) {
      reason = "near expiry";
    } else if (!info->client_auth || !info->server_auth) {
      reason = "agents now dial each other";
    } else if (std::set<std::string>(info->dns_names.begin(), info->dns_names.end()) != dns ||
               std::set<std::string>(info->ip_addresses.begin(), info->ip_addresses.end()) != ips) {
      reason = "the nodes' addresses changed";
    } else {
      reason.clear();
    }
  }
  if (!reason.empty()) {
    if (*server_secret) Say(progress_, absl::StrCat("Renewing the server certificate (", reason, ")"));
    auto issued = IssueCertificate(
        ca, {.common_name = "kim-builder",
             .dns_names = std::vector<std::string>(dns.begin(), dns.end()),
             .ip_addresses = std::vector<std::string>(ips.begin(), ips.end()),
             .server_auth = true,
             .client_auth = true,  // agents dial each other with it (distribution)
             .validity = kLeafValidity});
    if (!issued.ok()) return issued.status();
    server = *issued;
    if (absl::Status s = Write(kServerSecret, server, ca.cert_pem); !s.ok()) return s;
  }
  return server;
}

absl::Status PkiSecrets::EnsureClient(const KeyPair& ca, bool ca_new) {
  const absl::Time now = absl::Now();
  auto client_secret = Load(kClientSecret);
  if (!client_secret.ok()) return client_secret.status();
  bool client_new = ca_new || !*client_secret;
  if (!client_new) {
    KeyPair pair{DecodedField(**client_secret, "tls.crt"), DecodedField(**client_secret, "tls.key")};
    auto info = InspectCertificate(pair.cert_pem);
    client_new = !info.ok() || info->not_after - now < kRenewBefore ||
                 !CheckKeyPair(ca.cert_pem, pair).ok() ||
                 DecodedField(**client_secret, "ca.crt") != ca.cert_pem;
  }
  if (client_new) {
    auto issued = IssueCertificate(
        ca, {.common_name = "kim-client", .client_auth = true, .validity = kLeafValidity});
    if (!issued.ok()) return issued.status();
    if (absl::Status s = Write(kClientSecret, *issued, ca.cert_pem); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> EnsureBuilderPki(Client& client, const std::string& ns,
                                             const ServerNames& names, const Progress& progress) {
  PkiSecrets secrets(client, ns, progress);
  bool ca_new = false;
  auto ca = secrets.EnsureCa(&ca_new);
  if (!ca.ok()) return ca.status();
  auto server = secrets.EnsureServer(*ca, ca_new, names);
  if (!server.ok()) return server.status();
  if (absl::Status s = secrets.EnsureClient(*ca, ca_new); !s.ok()) return s;
  return HashJson(Json::string(server->cert_pem)).substr(0, 16);
}

}  // namespace kim::kube
