// Smoke tests of the real peers through kim's own stack (its gRPC channels and its HTTP client):
// each peer answers, and the protocol definitions kim wrote for it match the real program.
// peers: registry containerd buildkitd kube-apiserver
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/escaping.h"
#include "k8s/cri/runtime/v1/cri.grpc.pb.h"
#include "lib/core/http_client.h"
#include "moby/buildkit/v1/control.grpc.pb.h"
#include "test/support/peers.h"

using kim::test::PeerEnv;
using kim::test::ReadTextFile;
namespace http = web::http;

namespace {

std::unique_ptr<grpc::ClientContext> Deadline(int seconds = 10) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

http::http_response Get(const kim::HttpClientOptions& options, const std::string& path,
                        const std::string& authorization = "") {
  auto client = kim::NewHttpClient(options);
  REQUIRE(client.ok());
  http::http_request request(http::methods::GET);
  request.set_request_uri(path);
  if (!authorization.empty()) request.headers().add("Authorization", authorization);
  auto response = kim::SendRequest(**client, request);
  INFO(response.status());
  REQUIRE(response.ok());
  return *response;
}

// The server and the first user of a kubeconfig written by scripts/peers (certificates inline).
kim::HttpClientOptions KubeClientOptions(const std::string& kubeconfig_path) {
  const YAML::Node config = YAML::LoadFile(kubeconfig_path);
  const YAML::Node cluster = config["clusters"][0]["cluster"];
  const YAML::Node user = config["users"][0]["user"];
  auto decode = [](const YAML::Node& node) {
    std::string out;
    REQUIRE(absl::Base64Unescape(node.as<std::string>(), &out));
    return out;
  };
  kim::HttpClientOptions options;
  options.base_url = cluster["server"].as<std::string>();
  options.ca_pem = decode(cluster["certificate-authority-data"]);
  options.client_cert_pem = decode(user["client-certificate-data"]);
  options.client_key_pem = decode(user["client-key-data"]);
  return options;
}

}  // namespace

TEST_CASE("containerd: CRI runtime.v1 over the unix socket", "[peers][containerd]") {
  const std::string socket = PeerEnv("KIM_TEST_CONTAINERD_SOCKET");
  auto channel = grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials());

  auto runtime = runtime::v1::RuntimeService::NewStub(channel);
  runtime::v1::VersionResponse version;
  const grpc::Status version_status = runtime->Version(Deadline().get(), {}, &version);
  INFO(version_status.error_message());
  REQUIRE(version_status.ok());
  CHECK(version.runtime_name() == "containerd");
  CHECK(version.runtime_api_version() == "v1");
  CHECK_FALSE(version.runtime_version().empty());

  auto images = runtime::v1::ImageService::NewStub(channel);
  runtime::v1::ListImagesResponse list;
  REQUIRE(images->ListImages(Deadline().get(), {}, &list).ok());
  // A name nobody pulled: ImageStatus answers with an unset image, not an error.
  runtime::v1::ImageStatusRequest request;
  request.mutable_image()->set_image("docker.io/library/kim-never-pulled:1");
  runtime::v1::ImageStatusResponse status;
  REQUIRE(images->ImageStatus(Deadline().get(), request, &status).ok());
  CHECK_FALSE(status.has_image());
}

TEST_CASE("containerd: CRI pulls a seed image from the local registry", "[peers][containerd]") {
  const std::string socket = PeerEnv("KIM_TEST_CONTAINERD_SOCKET");
  const std::string ref = PeerEnv("KIM_TEST_REGISTRY") + "/hello:1";
  auto images = runtime::v1::ImageService::NewStub(
      grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials()));
  runtime::v1::PullImageRequest pull;
  pull.mutable_image()->set_image(ref);
  runtime::v1::PullImageResponse pulled;
  const grpc::Status pull_status = images->PullImage(Deadline(60).get(), pull, &pulled);
  INFO(pull_status.error_message());
  REQUIRE(pull_status.ok());
  CHECK(pulled.image_ref().starts_with("sha256:"));

  runtime::v1::ImageStatusRequest request;
  request.mutable_image()->set_image(ref);
  runtime::v1::ImageStatusResponse status;
  REQUIRE(images->ImageStatus(Deadline().get(), request, &status).ok());
  REQUIRE(status.has_image());
  CHECK(status.image().id() == pulled.image_ref());
  CHECK(status.image().repo_tags_size() == 1);
  CHECK(status.image().repo_tags(0) == ref);
  CHECK(status.image().size() > 0);

  runtime::v1::RemoveImageRequest remove;
  remove.mutable_image()->set_image(ref);
  runtime::v1::RemoveImageResponse removed;
  CHECK(images->RemoveImage(Deadline().get(), remove, &removed).ok());
}

TEST_CASE("buildkitd: Control.ListWorkers and Info over TCP with mutual TLS", "[peers][buildkitd]") {
  std::string address = PeerEnv("KIM_TEST_BUILDKIT_ADDR");
  REQUIRE(address.starts_with("tcp://"));
  address = address.substr(6);
  const std::string tls = PeerEnv("KIM_TEST_BUILDKIT_TLS_DIR");
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadTextFile(tls + "/ca.pem");
  ssl.pem_cert_chain = ReadTextFile(tls + "/cert.pem");
  ssl.pem_private_key = ReadTextFile(tls + "/key.pem");
  auto control = moby::buildkit::v1::Control::NewStub(
      grpc::CreateChannel(address, grpc::SslCredentials(ssl)));

  moby::buildkit::v1::ListWorkersResponse workers;
  const grpc::Status status = control->ListWorkers(Deadline().get(), {}, &workers);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(workers.record_size() == 1);
  const auto& worker = workers.record(0);
  CHECK_FALSE(worker.id().empty());
  CHECK(worker.labels().at("org.mobyproject.buildkit.worker.executor") == "containerd");
  CHECK(worker.labels().at("org.mobyproject.buildkit.worker.containerd.namespace") == "k8s.io");
  REQUIRE(worker.platforms_size() >= 1);
  CHECK(worker.platforms(0).os() == "linux");
  CHECK_FALSE(worker.platforms(0).architecture().empty());

  moby::buildkit::v1::InfoResponse info;
  REQUIRE(control->Info(Deadline().get(), {}, &info).ok());
  CHECK(info.buildkitversion().version() == "v0.17.3");
  CHECK(info.buildkitversion().package() == "github.com/moby/buildkit");

  // Without a client certificate the daemon refuses the connection.
  grpc::SslCredentialsOptions anonymous;
  anonymous.pem_root_certs = ssl.pem_root_certs;
  auto refused = moby::buildkit::v1::Control::NewStub(
      grpc::CreateChannel(address, grpc::SslCredentials(anonymous)));
  moby::buildkit::v1::ListWorkersResponse none;
  CHECK_FALSE(refused->ListWorkers(Deadline(5).get(), {}, &none).ok());
}

TEST_CASE("kube-apiserver: version, namespaces, and RBAC for the read-only user",
          "[peers][kube]") {
  const auto admin = KubeClientOptions(PeerEnv("KIM_TEST_KUBECONFIG"));
  const auto version = Get(admin, "/version");
  REQUIRE(version.status_code() == http::status_codes::OK);
  const auto version_json = version.extract_json().get();
  CHECK(version_json.at("gitVersion").as_string() == "v1.34.4");

  const auto namespaces = Get(admin, "/api/v1/namespaces");
  REQUIRE(namespaces.status_code() == http::status_codes::OK);
  std::vector<std::string> names;
  const auto namespace_list = namespaces.extract_json().get();
  for (const auto& item : namespace_list.at("items").as_array()) {
    names.push_back(item.at("metadata").at("name").as_string());
  }
  CHECK(std::find(names.begin(), names.end(), "default") != names.end());
  CHECK(std::find(names.begin(), names.end(), "kim-readonly") != names.end());

  const auto readonly = KubeClientOptions(PeerEnv("KIM_TEST_KUBECONFIG_READONLY"));
  const auto forbidden = Get(readonly, "/api/v1/namespaces");
  CHECK(forbidden.status_code() == http::status_codes::Forbidden);
  const auto status = forbidden.extract_json().get();
  CHECK(status.at("reason").as_string() == "Forbidden");
  CHECK(status.at("message").as_string().find("kim-readonly") != std::string::npos);
  CHECK(Get(readonly, "/api/v1/namespaces/kim-readonly/configmaps").status_code() ==
        http::status_codes::OK);

  // A client that does not trust the server's CA is refused before any request.
  auto untrusting = admin;
  untrusting.ca_pem = ReadTextFile(PeerEnv("KIM_TEST_BUILDKIT_TLS_DIR") + "/ca.pem");
  auto client = kim::NewHttpClient(untrusting);
  REQUIRE(client.ok());
  auto response = kim::SendRequest(**client, http::http_request(http::methods::GET));
  CHECK(response.status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("registry: /v2/ and the Basic-auth challenge", "[peers][registry]") {
  kim::HttpClientOptions plain{.base_url = "http://" + PeerEnv("KIM_TEST_REGISTRY")};
  const auto open = Get(plain, "/v2/");
  CHECK(open.status_code() == http::status_codes::OK);
  CHECK(open.headers().has("Docker-Distribution-Api-Version"));
  CHECK(Get(plain, "/v2/busybox/tags/list").status_code() == http::status_codes::OK);

  kim::HttpClientOptions auth{.base_url = "http://" + PeerEnv("KIM_TEST_REGISTRY_AUTH")};
  const auto challenge = Get(auth, "/v2/");
  CHECK(challenge.status_code() == http::status_codes::Unauthorized);
  REQUIRE(challenge.headers().has("WWW-Authenticate"));
  CHECK(challenge.headers().find("WWW-Authenticate")->second.starts_with("Basic realm="));

  const std::string good = absl::Base64Escape(PeerEnv("KIM_TEST_REGISTRY_USER") + ":" +
                                              PeerEnv("KIM_TEST_REGISTRY_PASSWORD"));
  CHECK(Get(auth, "/v2/", "Basic " + good).status_code() == http::status_codes::OK);
  const std::string bad = absl::Base64Escape(PeerEnv("KIM_TEST_REGISTRY_USER") + ":wrong");
  CHECK(Get(auth, "/v2/", "Basic " + bad).status_code() == http::status_codes::Unauthorized);
}
