// HTTP to one registry with its authentication: keeps one cpprestsdk client (and so its pooled
// keep-alive connections) per server, answers 401 challenges (Basic, or Bearer through the
// realm's token server) and retries once, remembers the scheme so later requests authenticate
// up front, and caches tokens per scope. Internal to libkim.
#ifndef KIM_LIB_IMAGES_REGISTRY_TRANSPORT_H_
#define KIM_LIB_IMAGES_REGISTRY_TRANSPORT_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cpprest/http_client.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kim/credentials.h"
#include "lib/images/registry_auth.h"

namespace kim {

// How to reach a registry.
struct RegistryTransportOptions {
  std::string host;             // "127.0.0.1:5000", "ghcr.io"; "docker.io" means Docker Hub
  RegistryCredentials credentials;
  // An insecure registry, as Docker treats them (and every loopback host, as Docker does):
  // HTTPS without certificate checks, or plain HTTP when it does not speak TLS.
  bool insecure = false;
  absl::Duration timeout = absl::Seconds(30);  // per request, without progress
};

// One request. The body is not copied: `body` must stay valid until Send returns.
struct RegistryRequest {
  web::http::method method = web::http::methods::GET;
  // "/v2/..." on the registry, or an absolute URL (an upload's Location).
  std::string target;
  // Token scopes the request needs ("repository:app:pull,push").
  std::vector<std::string> scopes;
  std::vector<std::pair<std::string, std::string>> headers;
  bool has_body = false;
  std::string_view body;
  std::string content_type;
};

// Sends requests to one registry, authenticating as needed. Thread-safe.
class RegistryTransport {
 public:
  // Checks the options and prepares the client (no request is sent). InvalidArgument for a host
  // that does not make a URL.
  static absl::StatusOr<std::unique_ptr<RegistryTransport>> Create(
      RegistryTransportOptions options);

  // Sends `request` and returns the registry's answer with its body read, whatever its status,
  // except: Unavailable when the registry (or its token server) cannot be reached or stops
  // answering within the timeout; Unauthenticated when a 401 remains after authenticating (or
  // there is nothing to authenticate with); PermissionDenied on 403. Messages do not name the
  // image; callers put it in front.
  absl::StatusOr<web::http::http_response> Send(const RegistryRequest& request);

  // "https://ghcr.io" (Docker Hub: registry-1.docker.io), or for an insecure registry whatever
  // the first request found it speaks, e.g. "http://127.0.0.1:5000".
  std::string base_url();
  // The host as given in the options, for messages.
  const std::string& host() const { return options_.host; }

 private:
  enum class Scheme { kUnknown, kNone, kBasic, kBearer };

  RegistryTransport(RegistryTransportOptions options, std::string api_host, bool insecure);

  // For an insecure registry, once: asks https://host/v2/ (unverified); any HTTP answer keeps
  // HTTPS, a failure to talk TLS at all switches to plain HTTP (Docker's fallback). What it
  // learns is remembered for the process, per host (until a request cannot reach it).
  void ChooseScheme();

  // The client for "scheme://authority", made on first use.
  absl::StatusOr<web::http::client::http_client*> ClientFor(const std::string& base);
  // Splits `target` into the client for its server and the path+query on it.
  absl::StatusOr<std::pair<web::http::client::http_client*, std::string>> Route(
      const std::string& target);
  absl::StatusOr<web::http::http_response> Attempt(const RegistryRequest& request,
                                                   const std::string& authorization);
  // The Authorization header to send for `scopes` with what is known so far ("" for none);
  // may ask the token server.
  absl::StatusOr<std::string> Authorization(const std::vector<std::string>& scopes);
  // Learns the scheme from a 401 answer. OK when a retry may succeed.
  absl::Status LearnChallenge(const web::http::http_response& response,
                              const std::vector<std::string>& scopes);
  absl::StatusOr<BearerToken> FetchToken(const std::string& realm, const std::string& service,
                                         const std::vector<std::string>& scopes);
  absl::Status AuthenticationRequired(std::string_view detail) const;

  const RegistryTransportOptions options_;
  const std::string api_host_;
  const bool insecure_;
  std::once_flag scheme_chosen_;
  std::mutex base_mutex_;
  std::string base_url_;

  std::mutex clients_mutex_;
  std::map<std::string, std::unique_ptr<web::http::client::http_client>> clients_;

  std::mutex auth_mutex_;
  Scheme scheme_ = Scheme::kUnknown;
  std::string realm_;
  std::string service_;
  TokenCache tokens_;
};

// True when `host` ("127.0.0.1:5000", "localhost", "[::1]:5000") is a loopback address, which
// kim treats as an insecure registry (as Docker does).
bool IsLoopbackHost(std::string_view host);

// The whole body of a received response as bytes ("" when it cannot be read).
std::string BodyOf(const web::http::http_response& response);

// The value of header `name` ("" when absent).
std::string HeaderValue(const web::http::http_response& response, const std::string& name);

// The registry's error list ({"errors":[{"code","message","detail"}]}) as one line, e.g.
// "BLOB_UNKNOWN: blob unknown to registry"; "" when the body holds none.
std::string RegistryErrorText(std::string_view body);

// "404 Not Found" plus RegistryErrorText of the body when there is one.
std::string DescribeResponse(const web::http::http_response& response, std::string_view body);

}  // namespace kim

#endif  // KIM_LIB_IMAGES_REGISTRY_TRANSPORT_H_
