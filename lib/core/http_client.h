// An HTTP(S) client on cpprestsdk, configured from PEM strings: the one HTTP stack of libkim,
// used by the Kubernetes REST client and the registry client. Internal to libkim.
#ifndef KIM_LIB_CORE_HTTP_CLIENT_H_
#define KIM_LIB_CORE_HTTP_CLIENT_H_

#include <memory>
#include <string>

#include <cpprest/http_client.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kim {

// How to reach one server.
struct HttpClientOptions {
  std::string base_url;              // "https://127.0.0.1:6443" or "http://127.0.0.1:5000"
  std::string ca_pem;                // trust only this CA (plus the system's when empty)
  std::string client_cert_pem;       // client certificate chain for mutual TLS
  std::string client_key_pem;        // its private key
  bool insecure_skip_verify = false;  // do not verify the server's certificate
  absl::Duration timeout = absl::Seconds(30);
};

// Builds a client for `options.base_url`. Returns InvalidArgument for a malformed URL or a
// certificate/key that does not parse (checked here, not at the first request).
absl::StatusOr<std::unique_ptr<web::http::client::http_client>> NewHttpClient(
    const HttpClientOptions& options);

// Sends `request` and waits for the whole response, body included (for small bodies: API
// objects, manifests, tokens; the response stays valid after `client` is gone). Transport failures (refused, TLS, timeout) become
// Unavailable with `what` and the server's address in the message.
absl::StatusOr<web::http::http_response> SendRequest(web::http::client::http_client& client,
                                                     web::http::http_request request);

// Like SendRequest, but gives up once no byte has moved in either direction for `idle_timeout`
// (the request is cancelled, so a server that hangs half-way, or that cpprestsdk would re-send
// to on a fresh connection, costs at most that long). Long transfers that keep moving are not
// cut. Returns Unavailable "... : no answer for <idle_timeout>" then.
absl::StatusOr<web::http::http_response> SendRequest(web::http::client::http_client& client,
                                                     web::http::http_request request,
                                                     absl::Duration idle_timeout);

}  // namespace kim

#endif  // KIM_LIB_CORE_HTTP_CLIENT_H_
