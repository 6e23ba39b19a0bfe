// The Kubernetes REST client: authentication (certificates, tokens, basic, exec plugins), TLS
// (CA, insecure, tls-server-name), verbs, watch, and API errors turned into Statuses.
#include "lib/kube/client.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>
#include <regex>

#include <boost/asio/ssl.hpp>
#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "kim/log.h"
#include "lib/core/http_client.h"
#include "lib/kube/client_state.h"

namespace kim::kube {
namespace {

namespace http = web::http;
using http::client::http_client;

std::string Describe(const Resource& resource, const std::string& ns, const std::string& name,
                     const std::string& subresource) {
  std::string out = resource.plural;
  if (!subresource.empty()) absl::StrAppend(&out, "/", subresource);
  if (!name.empty()) absl::StrAppend(&out, " \"", name, "\"");
  if (resource.namespaced && !ns.empty()) absl::StrAppend(&out, " in namespace \"", ns, "\"");
  return out;
}

}  // namespace

std::string ApiVersion(const Resource& resource) {
  return resource.group[0] == '\0' ? resource.version
                                   : absl::StrCat(resource.group, "/", resource.version);
}

const Json* JsonAt(const Json& object, std::initializer_list<const char*> path) {
  const Json* current = &object;
  for (const char* key : path) {
    if (!current->is_object() || !current->has_field(key)) return nullptr;
    current = &current->at(key);
  }
  return current;
}

std::string JsonString(const Json& object, std::initializer_list<const char*> path) {
  const Json* value = JsonAt(object, path);
  return value != nullptr && value->is_string() ? value->as_string() : "";
}

int64_t JsonInt(const Json& object, std::initializer_list<const char*> path) {
  const Json* value = JsonAt(object, path);
  return value != nullptr && value->is_number() ? value->as_number().to_int64() : 0;
}

absl::Status ApiError(int http_status, const std::string& body, const std::string& verb,
                      const Resource& resource, const std::string& ns, const std::string& name,
                      const std::string& subresource) {
  std::string message, reason;
  try {
    Json status = Json::parse(body);
    message = JsonString(status, {"message"});
    reason = JsonString(status, {"reason"});
  } catch (const std::exception&) {
    message = std::string(absl::StripAsciiWhitespace(body.substr(0, 300)));
  }
  const std::string prefix =
      absl::StrCat("cannot ", verb, " ", Describe(resource, ns, name, subresource), ": ");
  switch (http_status) {
    case 403: {
      std::smatch match;
      std::string user = "?";
      if (std::regex_search(message, match, std::regex("User \"([^\"]*)\""))) user = match[1];
      std::string rule = absl::StrCat("needs RBAC verb \"", verb, "\" on \"", resource.plural,
                                      subresource.empty() ? "" : "/", subresource, "\"");
      if (resource.group[0] != '\0') absl::StrAppend(&rule, " in API group \"", resource.group, "\"");
      if (resource.namespaced && !ns.empty()) absl::StrAppend(&rule, " in namespace \"", ns, "\"");
      return absl::PermissionDeniedError(
          absl::StrCat(prefix, "forbidden for user \"", user, "\" (", rule, ")"));
    }
    case 404:
      return absl::NotFoundError(absl::StrCat(prefix, "not found"));
    case 409:
      if (reason == "AlreadyExists") return absl::AlreadyExistsError(absl::StrCat(prefix, "already exists"));
      return absl::AbortedError(absl::StrCat(prefix, "conflict: ", message));
    case 401:
      return absl::UnauthenticatedError(absl::StrCat(
          prefix, "unauthorized: the server did not accept the kubeconfig's credentials"));
    case 400:
    case 422:
      return absl::InvalidArgumentError(absl::StrCat(prefix, message));
    case 410:
      return absl::FailedPreconditionError(absl::StrCat(prefix, "expired: ", message));
    default:
      if (http_status >= 500) {
        return absl::UnavailableError(absl::StrCat(prefix, "server error ", http_status, ": ", message));
      }
      return absl::InternalError(absl::StrCat(prefix, "HTTP ", http_status, ": ", message));
  }
}


Client::Client(std::unique_ptr<State> state) : state_(std::move(state)) {}
Client::~Client() = default;

const RestConfig& Client::config() const { return state_->config; }

absl::StatusOr<std::unique_ptr<Client>> Client::New(const RestConfig& config) {
  auto state = std::make_unique<State>();
  state->config = config;
  state->server_name = std::make_shared<std::string>(config.tls_server_name);
  if (config.exec) {
    state->exec = std::make_unique<ExecCredentialProvider>(*config.exec, config.server,
                                                           config.ca_pem,
                                                           config.insecure_skip_tls_verify);
  } else {
    // Validate the TLS material now, not at the first request.
    auto built = state->Build(config.client_cert_pem, config.client_key_pem, absl::Seconds(30));
    if (!built.ok()) return built.status();
  }
  return std::unique_ptr<Client>(new Client(std::move(state)));
}

namespace {

std::string ObjectPath(const Resource& resource, const std::string& ns, const std::string& name,
                       const std::string& subresource) {
  std::string path = resource.group[0] == '\0'
                         ? absl::StrCat("/api/", resource.version)
                         : absl::StrCat("/apis/", resource.group, "/", resource.version);
  if (resource.namespaced && !ns.empty()) absl::StrAppend(&path, "/namespaces/", ns);
  absl::StrAppend(&path, "/", resource.plural);
  if (!name.empty()) absl::StrAppend(&path, "/", name);
  if (!subresource.empty()) absl::StrAppend(&path, "/", subresource);
  return path;
}

std::string Query(const ListOptions& options) {
  std::string query;
  auto add = [&query](const std::string& key, const std::string& value) {
    if (value.empty()) return;
    absl::StrAppend(&query, query.empty() ? "?" : "&", key, "=",
                    web::uri::encode_data_string(value));
  };
  add("labelSelector", options.label_selector);
  add("fieldSelector", options.field_selector);
  return query;
}

struct Call {
  http::method method;
  std::string path;  // with query
  std::optional<Json> body;
  std::string content_type = "application/json";
  std::string verb;
  const Resource* resource;
  std::string ns, name, subresource;
  bool text = false;  // the answer is text (logs), returned as a JSON string
  absl::Duration idle_timeout = absl::ZeroDuration();  // > 0: give up without a byte for so long
};

}  // namespace

namespace {

absl::StatusOr<Json> Execute(Client::State& state, const Call& call) {
  for (int attempt = 0;; ++attempt) {
    auto prepared = state.Prepare(false);
    if (!prepared.ok()) {
      return absl::Status(prepared.status().code(),
                          absl::StrCat("cannot ", call.verb, " ",
                                       Describe(*call.resource, call.ns, call.name, call.subresource),
                                       ": ", prepared.status().message()));
    }
    http::http_request request(call.method);
    request.set_request_uri(call.path);
    request.headers().add("Accept", call.text ? "*/*" : "application/json");
    request.headers().add("User-Agent", "kim");
    if (!prepared->second.empty()) request.headers().add("Authorization", prepared->second);
    if (call.body) request.set_body(call.body->serialize(), call.content_type);
    LogDebug(1, absl::StrCat("kube: ", call.method, " ", call.path));
    auto response = call.idle_timeout > absl::ZeroDuration()
                        ? SendRequest(*prepared->first, request, call.idle_timeout)
                        : SendRequest(*prepared->first, request);
    if (!response.ok()) {
      std::string message(response.status().message());
      if (message.find("certificate verify failed") != std::string::npos ||
          message.find("handshake") != std::string::npos) {
        absl::StrAppend(&message, " (the server's certificate is not signed by the kubeconfig's "
                                  "certificate-authority, or does not name ", state.config.server,
                                  state.config.tls_server_name.empty() ? "" : " / ",
                                  state.config.tls_server_name, ")");
      }
      return absl::UnavailableError(absl::StrCat(
          "cannot ", call.verb, " ", Describe(*call.resource, call.ns, call.name, call.subresource),
          ": ", message));
    }
    const int code = response->status_code();
    std::string body;
    try {
      body = response->extract_utf8string(true).get();
    } catch (const std::exception& e) {
      return absl::UnavailableError(absl::StrCat("cannot read the API server's answer: ", e.what()));
    }
    if (code == 401 && state.exec && attempt == 0) {
      state.exec->Invalidate();  // the cached credential may have been revoked
      continue;
    }
    if (code < 200 || code >= 300) {
      return ApiError(code, body, call.verb, *call.resource, call.ns, call.name, call.subresource);
    }
    if (call.text) return Json::string(body);
    if (body.empty()) return Json::object();
    try {
      return Json::parse(body);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("the API server's answer to ", call.verb, " ",
                                              call.resource->plural, " is not JSON: ", e.what()));
    }
  }
}

}  // namespace

absl::StatusOr<Json> Client::Get(const Resource& resource, const std::string& ns,
                                 const std::string& name) {
  return Execute(*state_, Call{http::methods::GET, ObjectPath(resource, ns, name, ""), {}, {},
                               "get", &resource, ns, name, ""});
}

absl::StatusOr<Json> Client::List(const Resource& resource, const std::string& ns,
                                  const ListOptions& options) {
  return Execute(*state_, Call{http::methods::GET, ObjectPath(resource, ns, "", "") + Query(options),
                               {}, {}, "list", &resource, ns, "", ""});
}

absl::StatusOr<Json> Client::Create(const Resource& resource, const std::string& ns,
                                    const Json& object) {
  Json body = object;
  body["apiVersion"] = Json::string(ApiVersion(resource));
  body["kind"] = Json::string(resource.kind);
  return Execute(*state_, Call{http::methods::POST, ObjectPath(resource, ns, "", ""), body,
                               "application/json", "create", &resource, ns,
                               JsonString(object, {"metadata", "name"}), ""});
}

absl::StatusOr<Json> Client::Update(const Resource& resource, const std::string& ns,
                                    const Json& object, const std::string& subresource) {
  Json body = object;
  body["apiVersion"] = Json::string(ApiVersion(resource));
  body["kind"] = Json::string(resource.kind);
  const std::string name = JsonString(object, {"metadata", "name"});
  return Execute(*state_, Call{http::methods::PUT, ObjectPath(resource, ns, name, subresource),
                               body, "application/json", "update", &resource, ns, name,
                               subresource});
}

absl::StatusOr<Json> Client::MergePatch(const Resource& resource, const std::string& ns,
                                        const std::string& name, const Json& patch) {
  return Execute(*state_, Call{http::methods::PATCH, ObjectPath(resource, ns, name, ""), patch,
                               "application/merge-patch+json", "patch", &resource, ns, name, ""});
}

absl::Status Client::Delete(const Resource& resource, const std::string& ns,
                            const std::string& name, Propagation propagation,
                            const std::string& uid) {
  Json options = Json::object();
  options["apiVersion"] = Json::string("v1");
  options["kind"] = Json::string("DeleteOptions");
  options["propagationPolicy"] = Json::string(propagation == Propagation::kForeground ? "Foreground"
                                              : propagation == Propagation::kOrphan  ? "Orphan"
                                                                                     : "Background");
  if (!uid.empty()) {
    Json preconditions = Json::object();
    preconditions["uid"] = Json::string(uid);
    options["preconditions"] = preconditions;
  }
  auto result = Execute(*state_, Call{http::methods::DEL, ObjectPath(resource, ns, name, ""),
                                      options, "application/json", "delete", &resource, ns, name,
                                      ""});
  return result.status();
}

absl::StatusOr<std::string> Client::PodLogs(const std::string& ns, const std::string& name,
                                            const LogOptions& options) {
  std::string query;
  auto add = [&query](const std::string& key, const std::string& value) {
    absl::StrAppend(&query, query.empty() ? "?" : "&", key, "=", web::uri::encode_data_string(value));
  };
  if (!options.container.empty()) add("container", options.container);
  if (options.tail_lines > 0) add("tailLines", std::to_string(options.tail_lines));
  if (options.previous) add("previous", "true");
  Call call{http::methods::GET, ObjectPath(kPods, ns, name, "log") + query, {}, {}, "get",
            &kPods, ns, name, "log"};
  call.text = true;
  call.idle_timeout = options.timeout;
  auto text = Execute(*state_, call);
  if (!text.ok()) return text.status();
  return text->as_string();
}

absl::StatusOr<Json> Client::CreateOrUpdate(const Resource& resource, const std::string& ns,
                                            const std::string& name, const Mutator& mutate) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::optional<Json> object;
    auto current = Get(resource, ns, name);
    if (current.ok()) {
      object = *current;
    } else if (!absl::IsNotFound(current.status())) {
      return current.status();
    }
    const bool existed = object.has_value();
    auto changed = mutate(object);
    if (!changed.ok()) return changed.status();
    if (!object) return absl::InternalError("CreateOrUpdate: the mutator removed the object");
    absl::StatusOr<Json> stored = !existed ? Create(resource, ns, *object)
                                  : *changed ? Update(resource, ns, *object)
                                             : absl::StatusOr<Json>(*object);
    if (stored.ok()) return stored;
    // Someone else created or changed it meanwhile: read it again and redo the change.
    if (absl::IsAborted(stored.status()) || absl::IsAlreadyExists(stored.status())) continue;
    return stored.status();
  }
  return absl::AbortedError(absl::StrCat("cannot update ", Describe(resource, ns, name, ""),
                                         ": it kept changing under us (5 conflicts)"));
}

absl::Status Client::Watch(const Resource& resource, const std::string& ns,
                           const ListOptions& options, std::string resource_version,
                           absl::Time deadline,
                           const std::function<bool(const WatchEvent&)>& on_event) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("timed out watching ", Describe(resource, ns, "", "")));
    }
    const int64_t seconds = std::max<int64_t>(1, std::min<int64_t>(30, absl::ToInt64Seconds(left) + 1));
    std::string query = Query(options);
    absl::StrAppend(&query, query.empty() ? "?" : "&", "watch=1&allowWatchBookmarks=true",
                    "&timeoutSeconds=", seconds);
    if (!resource_version.empty()) absl::StrAppend(&query, "&resourceVersion=", resource_version);
    auto prepared = state_->Prepare(true);
    if (!prepared.ok()) return prepared.status();
    http::http_request request(http::methods::GET);
    request.set_request_uri(ObjectPath(resource, ns, "", "") + query);
    request.headers().add("Accept", "application/json");
    if (!prepared->second.empty()) request.headers().add("Authorization", prepared->second);
    try {
      http::http_response response = prepared->first->request(request).get();
      if (response.status_code() != 200) {
        return ApiError(response.status_code(), response.extract_utf8string(true).get(), "watch",
                        resource, ns, "");
      }
      auto body = response.body();
      while (true) {
        concurrency::streams::container_buffer<std::string> line;
        const size_t read = body.read_line(line).get();
        if (read == 0 && body.is_eof()) break;
        const std::string& text = line.collection();
        if (absl::StripAsciiWhitespace(text).empty()) continue;
        WatchEvent event;
        Json parsed = Json::parse(text);
        event.type = JsonString(parsed, {"type"});
        if (parsed.has_field("object")) event.object = parsed.at("object");
        if (event.type == "ERROR") {
          const int code = static_cast<int>(JsonInt(event.object, {"code"}));
          return ApiError(code == 0 ? 500 : code, event.object.serialize(), "watch", resource, ns, "");
        }
        const std::string version = JsonString(event.object, {"metadata", "resourceVersion"});
        if (!version.empty()) resource_version = version;
        if (event.type == "BOOKMARK") continue;
        if (on_event(event)) return absl::OkStatus();
        if (absl::Now() >= deadline) break;
      }
    } catch (const std::exception& e) {
      if (absl::Now() >= deadline) continue;
      return absl::UnavailableError(
          absl::StrCat("watch of ", Describe(resource, ns, "", ""), " failed: ", e.what()));
    }
  }
}

absl::StatusOr<std::optional<Json>> Client::WaitFor(
    const Resource& resource, const std::string& ns, const std::string& name, absl::Time deadline,
    const std::function<bool(const std::optional<Json>&)>& done) {
  while (true) {
    // List with a field selector: the list's resourceVersion is a valid start even when the
    // object does not exist.
    ListOptions options{.field_selector = "metadata.name=" + name};
    auto list = List(resource, ns, options);
    if (!list.ok()) return list.status();
    std::optional<Json> current;
    const Json* items = JsonAt(*list, {"items"});
    if (items != nullptr && items->is_array() && items->size() > 0) current = items->at(0);
    if (done(current)) return current;
    absl::Status status = Watch(resource, ns, options,
                                JsonString(*list, {"metadata", "resourceVersion"}), deadline,
                                [&](const WatchEvent& event) {
                                  if (event.type == "DELETED") {
                                    current.reset();
                                  } else {
                                    current = event.object;
                                  }
                                  return done(current);
                                });
    if (status.ok()) return current;
    if (absl::IsFailedPrecondition(status)) continue;  // 410 Gone: list again
    return status;
  }
}

}  // namespace kim::kube
