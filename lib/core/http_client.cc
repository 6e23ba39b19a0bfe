// cpprestsdk client set-up: custom CA, client certificates and timeouts from PEM strings.
#include "lib/core/http_client.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include <atomic>
#include <chrono>
#include <future>

#include <boost/asio/ssl.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kim {
namespace {

// OpenSSL frees its global state at exit unless told not to, while cpprestsdk's and gRPC's
// threads may still close a connection (SSL_free) after main returns: such a thread then waits
// forever on a destroyed lock and the process never exits (seen in a test whose abandoned HTTPS
// probe finished late). Process exit frees the memory anyway. Runs before main, so before the
// first use of OpenSSL, which decides whether the exit handler is registered.
const bool kOpenSslKeepsStateAtExit = OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr) == 1;

void FreeObject(X509* cert) { X509_free(cert); }
void FreeObject(EVP_PKEY* key) { EVP_PKEY_free(key); }

// True when `pem` holds at least one object OpenSSL can read with `reader`.
template <typename Reader>
bool ParsesAsPem(const std::string& pem, Reader reader) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return false;
  auto* object = reader(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (object == nullptr) return false;
  FreeObject(object);
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<web::http::client::http_client>> NewHttpClient(
    const HttpClientOptions& options) {
  web::uri uri;
  try {
    uri = web::uri(utility::conversions::to_string_t(options.base_url));
  } catch (const web::uri_exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid server URL \"", options.base_url, "\": ", e.what()));
  }
  if (uri.scheme() != "http" && uri.scheme() != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid server URL \"", options.base_url, "\": scheme must be http(s)"));
  }
  if (!options.ca_pem.empty() && !ParsesAsPem(options.ca_pem, PEM_read_bio_X509)) {
    return absl::InvalidArgumentError("the CA certificate is not valid PEM");
  }
  if (!options.client_cert_pem.empty() &&
      !ParsesAsPem(options.client_cert_pem, PEM_read_bio_X509)) {
    return absl::InvalidArgumentError("the client certificate is not valid PEM");
  }
  if (!options.client_key_pem.empty() &&
      !ParsesAsPem(options.client_key_pem, PEM_read_bio_PrivateKey)) {
    return absl::InvalidArgumentError("the client key is not valid PEM");
  }
  web::http::client::http_client_config config;
  config.set_timeout(absl::ToChronoMilliseconds(options.timeout));
  config.set_validate_certificates(!options.insecure_skip_verify);
  const std::string ca = options.ca_pem;
  const std::string cert = options.client_cert_pem;
  const std::string key = options.client_key_pem;
  config.set_ssl_context_callback([ca, cert, key](boost::asio::ssl::context& context) {
    if (!ca.empty()) context.add_certificate_authority(boost::asio::buffer(ca));
    if (!cert.empty()) context.use_certificate_chain(boost::asio::buffer(cert));
    if (!key.empty()) {
      context.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem);
    }
  });
  return std::make_unique<web::http::client::http_client>(uri, config);
}

absl::StatusOr<web::http::http_response> SendRequest(web::http::client::http_client& client,
                                                     web::http::http_request request) {
  const std::string target =
      absl::StrCat(request.method(), " ", client.base_uri().to_string(),
                   request.relative_uri().to_string());
  try {
    // Read the whole body now, so that the response outlives the client that received it.
    return client.request(request).get().content_ready().get();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot reach ", target, ": ", e.what()));
  }
}

absl::StatusOr<web::http::http_response> SendRequest(web::http::client::http_client& client,
                                                     web::http::http_request request,
                                                     absl::Duration idle_timeout) {
  const std::string target =
      absl::StrCat(request.method(), " ", client.base_uri().to_string(),
                   request.relative_uri().to_string());
  // The time of the last byte moved, in nanoseconds since the epoch.
  auto last_progress = std::make_shared<std::atomic<int64_t>>(absl::GetCurrentTimeNanos());
  request.set_progress_handler([last_progress](web::http::message_direction::direction,
                                               utility::size64_t) {
    last_progress->store(absl::GetCurrentTimeNanos());
  });
  pplx::cancellation_token_source cancel;
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  pplx::task<web::http::http_response> task =
      client.request(request, cancel.get_token())
          .then([](web::http::http_response response) { return response.content_ready(); });
  task.then([done](pplx::task<web::http::http_response>) { done->set_value(); });
  bool timed_out = false;
  while (true) {
    const absl::Time deadline =
        absl::FromUnixNanos(last_progress->load()) + idle_timeout;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      timed_out = true;
      cancel.cancel();
      finished.wait();
      break;
    }
    if (finished.wait_for(absl::ToChronoMilliseconds(left) + std::chrono::milliseconds(1)) ==
        std::future_status::ready) {
      break;
    }
  }
  try {
    return task.get();
  } catch (const std::exception& e) {
    if (timed_out) {
      return absl::UnavailableError(absl::StrCat("cannot reach ", target, ": no answer for ",
                                                 absl::FormatDuration(idle_timeout)));
    }
    return absl::UnavailableError(absl::StrCat("cannot reach ", target, ": ", e.what()));
  }
}

}  // namespace kim
