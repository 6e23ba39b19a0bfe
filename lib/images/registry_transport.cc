// Registry HTTP: routing, authentication and the one retry after a challenge.
#include "lib/images/registry_transport.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <cpprest/json.h>
#include <cpprest/rawptrstream.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "kim/reference.h"
#include "lib/core/http_client.h"

namespace kim {
namespace {

namespace http = web::http;

// The host part of "host[:port]" or "[v6]:port".
std::string HostOnly(std::string_view host) {
  if (host.starts_with('[')) {
    const size_t end = host.find(']');
    return std::string(host.substr(1, end == std::string_view::npos ? host.npos : end - 1));
  }
  return std::string(host.substr(0, host.find(':')));
}

// "scheme://authority" of an absolute URL.
std::string BaseOf(const web::uri& uri) {
  std::string base = absl::StrCat(uri.scheme(), "://", uri.host());
  if (uri.port() > 0) absl::StrAppend(&base, ":", uri.port());
  return base;
}

std::string BasicAuthorization(const RegistryCredentials& credentials) {
  return absl::StrCat("Basic ",
                      absl::Base64Escape(credentials.username + ":" + credentials.password));
}

}  // namespace

std::string BodyOf(const web::http::http_response& response) {
  try {
    const std::vector<unsigned char> bytes = response.extract_vector().get();
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    return "";
  }
}

std::string HeaderValue(const web::http::http_response& response, const std::string& name) {
  auto it = response.headers().find(name);
  return it == response.headers().end() ? "" : it->second;
}

bool IsLoopbackHost(std::string_view host) {
  const std::string name = absl::AsciiStrToLower(HostOnly(host));
  if (name == "localhost" || name == "::1") return true;
  // 127.0.0.0/8 as a dotted IPv4 literal.
  std::vector<std::string> parts = absl::StrSplit(name, '.');
  if (parts.size() != 4 || parts[0] != "127") return false;
  for (const auto& part : parts) {
    int value = 0;
    if (part.empty() || part.size() > 3 || !absl::SimpleAtoi(part, &value) || value > 255) {
      return false;
    }
  }
  return true;
}

std::string RegistryErrorText(std::string_view body) {
  if (body.empty() || body.front() != '{') return "";
  try {
    const auto json = web::json::value::parse(std::string(body));
    if (!json.has_array_field("errors")) return "";
    std::vector<std::string> parts;
    for (const auto& error : json.at("errors").as_array()) {
      std::string part;
      if (error.has_string_field("code")) part = error.at("code").as_string();
      if (error.has_string_field("message")) {
        absl::StrAppend(&part, part.empty() ? "" : ": ", error.at("message").as_string());
      }
      if (error.has_field("detail") && !error.at("detail").is_null()) {
        const auto& detail = error.at("detail");
        absl::StrAppend(&part, " (", detail.is_string() ? detail.as_string() : detail.serialize(),
                        ")");
      }
      if (!part.empty()) parts.push_back(std::move(part));
    }
    return absl::StrJoin(parts, "; ");
  } catch (const std::exception&) {
    return "";
  }
}

namespace {

// Which scheme each insecure registry answered on, for the life of the process: a long-running
// agent probes a registry's HTTPS once, not on every pull and push. Each probe of a plain-HTTP
// registry costs a TLS set-up (the system CA store loaded) that cpprestsdk never frees when the
// handshake fails: about 80 KB a pull, for as long as the agent ran. Forgotten when a request
// on the chosen scheme cannot reach the registry, so that the next transport probes again.
class SchemeMemo {
 public:
  static SchemeMemo& Get() {
    static SchemeMemo* memo = new SchemeMemo();
    return *memo;
  }
  // "https://" or "http://" as learned for `host`, or "" when unknown.
  std::string Find(const std::string& host) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = schemes_.find(host);
    return found == schemes_.end() ? "" : found->second;
  }
  void Remember(const std::string& host, const std::string& scheme) {
    std::lock_guard<std::mutex> lock(mutex_);
    schemes_[host] = scheme;
  }
  void Forget(const std::string& host) {
    std::lock_guard<std::mutex> lock(mutex_);
    schemes_.erase(host);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> schemes_;
};

// What a registry's own storage failure means for the user, from the system error number that
// docker-distribution's filesystem driver puts in its error detail ({"Enclosed":{"Err":28,...}});
// "" when the body names none of these.
std::string StorageHint(std::string_view body) {
  if (body.find("\"Err\":28") != std::string_view::npos) {
    return " (the registry's storage is full: no space left on device; free space there, then "
           "push again)";
  }
  if (body.find("\"Err\":122") != std::string_view::npos) {
    return " (the registry's storage is over its disk quota; free space there, then push again)";
  }
  if (body.find("\"Err\":30") != std::string_view::npos) {
    return " (the registry's storage is a read-only file system)";
  }
  return "";
}

}  // namespace

std::string DescribeResponse(const http::http_response& response, std::string_view body) {
  std::string text = absl::StrCat(response.status_code(), " ", response.reason_phrase());
  if (const std::string errors = RegistryErrorText(body); !errors.empty()) {
    absl::StrAppend(&text, ": ", errors);
  }
  if (response.status_code() >= 500) absl::StrAppend(&text, StorageHint(body));
  return text;
}

absl::StatusOr<std::unique_ptr<RegistryTransport>> RegistryTransport::Create(
    RegistryTransportOptions options) {
  if (options.host.empty()) return absl::InvalidArgumentError("no registry host given");
  std::string api_host = IsDockerHub(options.host) ? "registry-1.docker.io" : options.host;
  try {
    web::uri uri("https://" + api_host);
    if (uri.host().empty()) throw web::uri_exception("no host");
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid registry host \"", options.host, "\": ", e.what()));
  }
  const bool insecure = options.insecure || IsLoopbackHost(options.host);
  return std::unique_ptr<RegistryTransport>(
      new RegistryTransport(std::move(options), std::move(api_host), insecure));
}

RegistryTransport::RegistryTransport(RegistryTransportOptions options, std::string api_host,
                                     bool insecure)
    : options_(std::move(options)),
      api_host_(std::move(api_host)),
      insecure_(insecure),
      base_url_("https://" + api_host_) {
  if (!options_.credentials.registry_token.empty()) scheme_ = Scheme::kBearer;
}

std::string RegistryTransport::base_url() {
  ChooseScheme();
  std::lock_guard<std::mutex> lock(base_mutex_);
  return base_url_;
}

void RegistryTransport::ChooseScheme() {
  if (!insecure_) return;
  std::call_once(scheme_chosen_, [this] {
    std::string scheme = SchemeMemo::Get().Find(api_host_);
    if (scheme.empty()) {
      auto client = ClientFor("https://" + api_host_);
      if (!client.ok()) return;
      http::http_request ping(http::methods::GET);
      ping.set_request_uri("/v2/");
      scheme = SendRequest(**client, std::move(ping), options_.timeout).ok() ? "https://" : "http://";
      SchemeMemo::Get().Remember(api_host_, scheme);
    }
    std::lock_guard<std::mutex> lock(base_mutex_);
    base_url_ = scheme + api_host_;
  });
}

absl::StatusOr<http::client::http_client*> RegistryTransport::ClientFor(const std::string& base) {
  std::lock_guard<std::mutex> lock(clients_mutex_);
  auto& client = clients_[base];
  if (client == nullptr) {
    // cpprestsdk's own timeout is only a backstop: SendRequest's idle timeout is the one that
    // counts (cpprestsdk re-sends a request whose reused connection fails, doubling its wait).
    // An insecure registry's own HTTPS is not verified (its other servers, e.g. a token realm,
    // still are).
    auto made = NewHttpClient(HttpClientOptions{
        .base_url = base,
        .insecure_skip_verify = insecure_ && base == "https://" + api_host_,
        .timeout = options_.timeout * 2 + absl::Seconds(1)});
    if (!made.ok()) return made.status();
    client = *std::move(made);
  }
  return client.get();
}

absl::StatusOr<std::pair<http::client::http_client*, std::string>> RegistryTransport::Route(
    const std::string& target) {
  if (target.starts_with('/')) {
    auto client = ClientFor(base_url());
    if (!client.ok()) return client.status();
    return std::make_pair(*client, target);
  }
  web::uri uri;
  try {
    uri = web::uri(target);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("registry ", options_.host, " gave a bad URL \"", target, "\": ", e.what()));
  }
  if (uri.scheme() != "http" && uri.scheme() != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("registry ", options_.host, " gave a bad URL \"", target, "\""));
  }
  auto client = ClientFor(BaseOf(uri));
  if (!client.ok()) return client.status();
  std::string path = uri.resource().to_string();
  return std::make_pair(*client, std::move(path));
}

absl::StatusOr<http::http_response> RegistryTransport::Attempt(const RegistryRequest& request,
                                                               const std::string& authorization) {
  auto route = Route(request.target);
  if (!route.ok()) return route.status();
  http::http_request message(request.method);
  message.set_request_uri(route->second);
  for (const auto& [name, value] : request.headers) message.headers().add(name, value);
  if (!authorization.empty()) message.headers().add("Authorization", authorization);
  if (request.has_body) {
    // A read-only stream over the caller's bytes: nothing is copied.
    auto stream = concurrency::streams::rawptr_stream<uint8_t>::open_istream(
        reinterpret_cast<const uint8_t*>(request.body.data()), request.body.size());
    message.set_body(stream, request.body.size(),
                     request.content_type.empty() ? "application/octet-stream"
                                                  : request.content_type);
  } else if (request.method == http::methods::PUT || request.method == http::methods::POST ||
             request.method == http::methods::PATCH) {
    message.headers().set_content_length(0);
  }
  auto response = SendRequest(*route->first, std::move(message), options_.timeout);
  if (!response.ok()) {
    if (insecure_ && request.target.starts_with('/')) SchemeMemo::Get().Forget(api_host_);
    return absl::UnavailableError(absl::StrCat(
        "cannot reach registry ", options_.host, " (", request.method, " ",
        route->second.substr(0, route->second.find('?')), "): ",
        response.status().message().substr(response.status().message().rfind(": ") + 2)));
  }
  return response;
}

absl::Status RegistryTransport::AuthenticationRequired(std::string_view detail) const {
  std::string message = "authentication required";
  if (!detail.empty()) absl::StrAppend(&message, ": ", std::string(detail));
  absl::StrAppend(&message, " (run kim login? check your Docker config)");
  return absl::UnauthenticatedError(message);
}

absl::StatusOr<http::http_response> RegistryTransport::Send(const RegistryRequest& request) {
  auto authorization = Authorization(request.scopes);
  if (!authorization.ok()) return authorization.status();
  auto response = Attempt(request, *authorization);
  if (!response.ok()) return response.status();
  if (response->status_code() == http::status_codes::Unauthorized) {
    if (auto learned = LearnChallenge(*response, request.scopes); !learned.ok()) return learned;
    auto retry_authorization = Authorization(request.scopes);
    if (!retry_authorization.ok()) return retry_authorization.status();
    if (retry_authorization->empty()) return AuthenticationRequired("");
    response = Attempt(request, *retry_authorization);
    if (!response.ok()) return response.status();
    if (response->status_code() == http::status_codes::Unauthorized) {
      tokens_.Clear();
      const std::string errors = RegistryErrorText(BodyOf(*response));
      return AuthenticationRequired(
          options_.credentials.empty()
              ? errors
              : absl::StrCat("registry ", options_.host, " refused the credentials",
                             options_.credentials.username.empty()
                                 ? ""
                                 : absl::StrCat(" of user \"", options_.credentials.username,
                                                "\""),
                             errors.empty() ? "" : absl::StrCat(" (", errors, ")")));
    }
  }
  if (response->status_code() == http::status_codes::Forbidden) {
    const std::string errors = RegistryErrorText(BodyOf(*response));
    return absl::PermissionDeniedError(absl::StrCat(
        "registry ", options_.host, " denied access",
        options_.credentials.username.empty()
            ? ""
            : absl::StrCat(" to user \"", options_.credentials.username, "\""),
        errors.empty() ? "" : absl::StrCat(": ", errors)));
  }
  return response;
}

absl::StatusOr<std::string> RegistryTransport::Authorization(
    const std::vector<std::string>& scopes) {
  Scheme scheme;
  std::string realm, service;
  {
    std::lock_guard<std::mutex> lock(auth_mutex_);
    scheme = scheme_;
    realm = realm_;
    service = service_;
  }
  const RegistryCredentials& credentials = options_.credentials;
  switch (scheme) {
    case Scheme::kUnknown:
    case Scheme::kNone:
      return std::string();
    case Scheme::kBasic:
      if (credentials.username.empty() && credentials.password.empty()) return std::string();
      return BasicAuthorization(credentials);
    case Scheme::kBearer: {
      if (!credentials.registry_token.empty()) {
        return absl::StrCat("Bearer ", credentials.registry_token);
      }
      const std::vector<std::string> merged = MergeScopes(scopes);
      if (auto cached = tokens_.Get(merged, absl::Now())) return absl::StrCat("Bearer ", *cached);
      auto token = FetchToken(realm, service, merged);
      if (!token.ok()) return token.status();
      tokens_.Put(merged, *token);
      return absl::StrCat("Bearer ", token->token);
    }
  }
  return std::string();
}

absl::Status RegistryTransport::LearnChallenge(const http::http_response& response,
                                               const std::vector<std::string>& scopes) {
  const std::string header = HeaderValue(response, "WWW-Authenticate");
  if (header.empty()) {
    return AuthenticationRequired(
        absl::StrCat("registry ", options_.host, " answered 401 without a challenge"));
  }
  auto challenges = ParseAuthChallenges(header);
  if (!challenges.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("registry ", options_.host, " sent a bad challenge: ",
                     challenges.status().message()));
  }
  std::lock_guard<std::mutex> lock(auth_mutex_);
  if (const AuthChallenge* bearer = FindChallenge(*challenges, "bearer")) {
    const std::string realm = bearer->Param("realm");
    if (realm.empty() && options_.credentials.registry_token.empty()) {
      return absl::UnauthenticatedError(
          absl::StrCat("registry ", options_.host, " sent a Bearer challenge without a realm"));
    }
    scheme_ = Scheme::kBearer;
    realm_ = realm;
    service_ = bearer->Param("service");
    // The scope the registry asks for may be more than we guessed (e.g. the source of a
    // mount); ask for both next time. Tokens for the guessed scopes were refused.
    const std::string challenge_scope = bearer->Param("scope");
    if (!challenge_scope.empty()) {
      std::vector<std::string> extra;
      for (absl::string_view scope : absl::StrSplit(challenge_scope, ' ', absl::SkipEmpty())) {
        extra.emplace_back(scope);
      }
      const auto merged = MergeScopes(scopes, extra);
      if (merged != MergeScopes(scopes)) {
        // Fetch now under the request's own key so the retry picks it up.
        auto token = FetchToken(realm_, service_, merged);
        if (!token.ok()) return token.status();
        tokens_.Put(MergeScopes(scopes), *std::move(token));
        return absl::OkStatus();
      }
    }
    tokens_.Clear();
    return absl::OkStatus();
  }
  if (FindChallenge(*challenges, "basic") != nullptr) {
    if (scheme_ == Scheme::kBasic) {
      // We already sent Basic credentials and they were refused.
      return AuthenticationRequired(
          options_.credentials.empty()
              ? ""
              : absl::StrCat("registry ", options_.host, " refused the credentials of user \"",
                             options_.credentials.username, "\""));
    }
    scheme_ = Scheme::kBasic;
    return absl::OkStatus();
  }
  return absl::UnauthenticatedError(absl::StrCat("registry ", options_.host,
                                                 " asks for an authentication scheme kim does "
                                                 "not support: ",
                                                 header));
}

absl::StatusOr<BearerToken> RegistryTransport::FetchToken(const std::string& realm,
                                                          const std::string& service,
                                                          const std::vector<std::string>& scopes) {
  const RegistryCredentials& credentials = options_.credentials;
  web::uri realm_uri;
  try {
    realm_uri = web::uri(realm);
  } catch (const std::exception&) {
    return absl::UnauthenticatedError(
        absl::StrCat("registry ", options_.host, " names a bad token realm \"", realm, "\""));
  }
  auto client = ClientFor(BaseOf(realm_uri));
  if (!client.ok()) return client.status();
  http::http_request message;
  const bool oauth = !credentials.identity_token.empty();
  if (oauth) {
    // OAuth2 refresh-token grant (what Docker does with an identity token).
    message.set_method(http::methods::POST);
    message.set_request_uri(realm_uri.resource());
    std::string form = absl::StrCat(
        "grant_type=refresh_token&client_id=kim&refresh_token=",
        web::uri::encode_data_string(credentials.identity_token));
    if (!service.empty()) absl::StrAppend(&form, "&service=", web::uri::encode_data_string(service));
    if (!scopes.empty()) {
      absl::StrAppend(&form, "&scope=", web::uri::encode_data_string(absl::StrJoin(scopes, " ")));
    }
    message.set_body(std::move(form), "application/x-www-form-urlencoded");
  } else {
    message.set_method(http::methods::GET);
    web::uri_builder builder(realm_uri.resource());
    if (!service.empty()) builder.append_query("service", service);
    for (const auto& scope : scopes) builder.append_query("scope", scope);
    message.set_request_uri(builder.to_uri());
    if (!credentials.username.empty() || !credentials.password.empty()) {
      message.headers().add("Authorization", BasicAuthorization(credentials));
    }
  }
  auto response = SendRequest(**client, std::move(message), options_.timeout);
  if (!response.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the token server ", realm,
                                               " of registry ", options_.host, ": ",
                                               response.status().message()));
  }
  const std::string body = BodyOf(*response);
  const auto code = response->status_code();
  if (code == http::status_codes::Unauthorized || code == http::status_codes::Forbidden ||
      (oauth && code == http::status_codes::BadRequest)) {
    if (credentials.empty()) return AuthenticationRequired("");
    return AuthenticationRequired(absl::StrCat(
        "the token server ", realm, " refused the credentials",
        credentials.username.empty() ? ""
                                     : absl::StrCat(" of user \"", credentials.username, "\"")));
  }
  if (code != http::status_codes::OK) {
    return absl::UnavailableError(absl::StrCat("the token server ", realm, " of registry ",
                                               options_.host, " answered ",
                                               DescribeResponse(*response, body)));
  }
  auto token = ParseTokenResponse(body, absl::Now());
  if (!token.ok()) {
    return absl::UnauthenticatedError(absl::StrCat("the token server ", realm, " of registry ",
                                                   options_.host, ": ",
                                                   token.status().message()));
  }
  return token;
}

}  // namespace kim
