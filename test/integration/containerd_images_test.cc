// ContainerdImageService against the real containerd 1.6.20 (CRI on) and the local registry:
// list, status, pull with progress and credentials, tag, rmi with Docker's rules, the blob source,
// and the field numbers of kim's own containerd .proto files.
// peers: containerd registry
//
// Other tests may use the same containerd at the same time, so every test works on images of its
// own: unique repositories, and images with a unique config (hence a unique ID) pushed to the
// registry by the helpers below (the seed hello:1 layer with a config carrying a unique label).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <map>
#include <set>

#include <cpprest/json.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "containerd/services/content/v1/content.grpc.pb.h"
#include "containerd/services/images/v1/images.grpc.pb.h"
#include "containerd/services/leases/v1/leases.grpc.pb.h"
#include "containerd/services/version/v1/version.grpc.pb.h"
#include "kim/connect.h"
#include "kim/digest.h"
#include "kim/platform.h"
#include "lib/core/http_client.h"
#include "lib/images/containerd_blob_source.h"
#include "lib/images/containerd_connection.h"
#include "lib/images/containerd_image_service.h"
#include "lib/images/containerd_records.h"
#include "test/support/peers.h"

using kim::test::PeerEnv;
namespace http = web::http;
using web::json::value;

namespace {

std::string Socket() { return PeerEnv("KIM_TEST_CONTAINERD_SOCKET"); }
std::string Registry() { return PeerEnv("KIM_TEST_REGISTRY"); }

// A name no other test (or earlier run on the same containerd) uses.
std::string Unique(const std::string& what) {
  static std::atomic<int> counter{0};
  return absl::StrCat(what, "-", getpid(), "-", absl::ToUnixMicros(absl::Now()) % 1000000000,
                      "-", counter++);
}

std::unique_ptr<kim::ImageService> Service() {
  auto service = kim::NewContainerdImageService({.socket = Socket()});
  INFO(service.status());
  REQUIRE(service.ok());
  return *std::move(service);
}

// --- the registry, through kim's HTTP client -----------------------------------------------

http::http_response Send(const std::string& registry, http::http_request request) {
  auto client = kim::NewHttpClient({.base_url = "http://" + registry});
  REQUIRE(client.ok());
  auto response = kim::SendRequest(**client, std::move(request));
  INFO(response.status());
  REQUIRE(response.ok());
  return *response;
}

std::string Body(http::http_response response) {
  auto bytes = response.extract_vector().get();
  return std::string(bytes.begin(), bytes.end());
}

std::string GetText(const std::string& path, const std::string& accept = "") {
  http::http_request request(http::methods::GET);
  request.set_request_uri(path);
  if (!accept.empty()) request.headers().add("Accept", accept);
  auto response = Send(Registry(), request);
  INFO(path);
  REQUIRE(response.status_code() == http::status_codes::OK);
  return Body(response);
}

value ParseJson(const std::string& text) { return value::parse(text); }

// An image as the registry holds it.
struct RegistryImage {
  std::string ref;              // "127.0.0.1:PORT/repo:tag"
  std::string manifest;         // bytes
  std::string manifest_digest;
  std::string config;           // bytes
  std::string id;               // config digest
  std::vector<std::pair<std::string, int64_t>> layers;  // digest, size
  uint64_t size() const {       // what containerd reports: manifest + config + layers
    uint64_t total = manifest.size() + config.size();
    for (const auto& layer : layers) total += layer.second;
    return total;
  }
};

RegistryImage ReadRegistryImage(const std::string& repo, const std::string& tag) {
  RegistryImage image;
  image.ref = absl::StrCat(Registry(), "/", repo, ":", tag);
  image.manifest = GetText(absl::StrCat("/v2/", repo, "/manifests/", tag),
                           "application/vnd.oci.image.manifest.v1+json");
  image.manifest_digest = kim::DigestOf(image.manifest).String();
  const value manifest = ParseJson(image.manifest);
  image.id = manifest.at("config").at("digest").as_string();
  image.config = GetText(absl::StrCat("/v2/", repo, "/blobs/", image.id));
  for (const value& layer : manifest.at("layers").as_array()) {
    image.layers.emplace_back(layer.at("digest").as_string(),
                              layer.at("size").as_number().to_int64());
  }
  return image;
}

std::string PathOf(const std::string& location) {
  if (const size_t scheme = location.find("://"); scheme != std::string::npos) {
    return location.substr(location.find('/', scheme + 3));
  }
  return location;
}

void PutBlob(const std::string& repo, const std::string& data) {
  http::http_request start(http::methods::POST);
  start.set_request_uri(absl::StrCat("/v2/", repo, "/blobs/uploads/"));
  auto started = Send(Registry(), start);
  REQUIRE(started.status_code() == http::status_codes::Accepted);
  std::string location = PathOf(started.headers().find("Location")->second);
  location += location.find('?') == std::string::npos ? "?" : "&";
  http::http_request put(http::methods::PUT);
  put.set_request_uri(absl::StrCat(location, "digest=", kim::DigestOf(data).String()));
  put.set_body(std::vector<unsigned char>(data.begin(), data.end()));
  put.headers().set_content_type("application/octet-stream");
  REQUIRE(Send(Registry(), put).status_code() == http::status_codes::Created);
}

// The config of hello:1 with a label of our own and a fixed creation date: a new image ID.
std::string UniqueConfig(const std::string& label) {
  static const std::string base = ReadRegistryImage("hello", "1").config;
  value config = ParseJson(base);
  config["created"] = value::string("2021-05-06T07:08:09.123456789Z");
  config["config"]["Labels"]["kim.test"] = value::string(label);
  return config.serialize();
}

// Pushes hello:1's layer with `config` as `repo:tag`; returns it as the registry has it.
RegistryImage PushImage(const std::string& repo, const std::string& tag, const std::string& config) {
  const RegistryImage hello = ReadRegistryImage("hello", "1");
  http::http_request mount(http::methods::POST);
  mount.set_request_uri(absl::StrCat("/v2/", repo, "/blobs/uploads/?mount=",
                                     hello.layers.at(0).first, "&from=hello"));
  REQUIRE(Send(Registry(), mount).status_code() == http::status_codes::Created);
  PutBlob(repo, config);
  value manifest = ParseJson(hello.manifest);
  manifest["config"]["digest"] = value::string(kim::DigestOf(config).String());
  manifest["config"]["size"] = value::number(static_cast<int64_t>(config.size()));
  http::http_request put(http::methods::PUT);
  put.set_request_uri(absl::StrCat("/v2/", repo, "/manifests/", tag));
  const std::string body = manifest.serialize();
  put.set_body(std::vector<unsigned char>(body.begin(), body.end()));
  put.headers().set_content_type("application/vnd.oci.image.manifest.v1+json");
  REQUIRE(Send(Registry(), put).status_code() == http::status_codes::Created);
  return ReadRegistryImage(repo, tag);
}

// A fresh image with an ID nobody else has, in a fresh repository of the registry, pulled into
// containerd through the service.
RegistryImage PullUnique(kim::ImageService& service, const std::string& what) {
  const std::string repo = "kimtest/" + Unique(what);
  RegistryImage image = PushImage(repo, "1", UniqueConfig(Unique(what)));
  auto pulled = service.Pull(image.ref, {});
  INFO(pulled.status());
  REQUIRE(pulled.ok());
  REQUIRE(pulled->id == image.id);
  return image;
}

bool Has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("containerd-namespace", "k8s.io");
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

std::shared_ptr<grpc::Channel> Channel() {
  return grpc::CreateChannel("unix://" + Socket(), grpc::InsecureChannelCredentials());
}

}  // namespace

TEST_CASE("containerd: a missing socket gives a clear error", "[containerd]") {
  auto service = kim::NewContainerdImageService({.socket = "/x.sock"});
  REQUIRE_FALSE(service.ok());
  CHECK(service.status().code() == absl::StatusCode::kUnavailable);
  CHECK(service.status().message() ==
        "cannot reach containerd at unix:///x.sock: no such file (is containerd running? check "
        "--containerd-socket)");

  // The same through Connect, as `kim --containerd-socket` does.
  auto connected = kim::ConnectImageService({.containerd_socket = "unix:///x.sock"});
  REQUIRE_FALSE(connected.ok());
  CHECK(connected.status().message().find("cannot reach containerd at unix:///x.sock") == 0);

  auto real = kim::ConnectImageService({.containerd_socket = Socket()});
  INFO(real.status());
  REQUIRE(real.ok());
  CHECK((*real)->List({}).ok());
}

TEST_CASE("containerd: kim's native API protos match containerd 1.6.20", "[containerd]") {
  auto channel = Channel();
  namespace version = containerd::services::version::v1;
  namespace leases = containerd::services::leases::v1;
  namespace images = containerd::services::images::v1;
  namespace content = containerd::services::content::v1;

  version::VersionResponse v;
  REQUIRE(version::Version::NewStub(channel)->Version(Context().get(), {}, &v).ok());
  CHECK(v.version().starts_with("1.6.20"));
  CHECK_FALSE(v.revision().empty());

  // Leases: id and labels go in and come back (labels are field 3 of CreateRequest and Lease).
  auto lease_stub = leases::Leases::NewStub(channel);
  leases::CreateRequest create;
  create.set_id(Unique("kim-test-lease"));
  (*create.mutable_labels())["kim.test/label"] = "yes";
  leases::CreateResponse created;
  REQUIRE(lease_stub->Create(Context().get(), create, &created).ok());
  CHECK(created.lease().id() == create.id());
  CHECK(created.lease().labels().at("kim.test/label") == "yes");
  CHECK(created.lease().created_at().seconds() > 0);
  leases::ListRequest list;
  list.add_filters("id==" + create.id());
  leases::ListResponse listed;
  REQUIRE(lease_stub->List(Context().get(), list, &listed).ok());
  REQUIRE(listed.leases_size() == 1);
  CHECK(listed.leases(0).labels().at("kim.test/label") == "yes");
  leases::DeleteRequest remove;
  remove.set_id(create.id());
  google::protobuf::Empty empty;
  REQUIRE(lease_stub->Delete(Context().get(), remove, &empty).ok());
  REQUIRE(lease_stub->List(Context().get(), list, &listed).ok());
  CHECK(listed.leases_size() == 0);

  // Images: a pulled image's record, by name and through a filter on the target digest.
  auto service = Service();
  const RegistryImage image = PullUnique(*service, "protos");
  auto image_stub = images::Images::NewStub(channel);
  images::GetImageRequest get;
  get.set_name(image.ref);
  images::GetImageResponse got;
  REQUIRE(image_stub->Get(Context().get(), get, &got).ok());
  CHECK(got.image().name() == image.ref);
  CHECK(got.image().target().digest() == image.manifest_digest);
  CHECK(got.image().target().media_type() == "application/vnd.oci.image.manifest.v1+json");
  CHECK(got.image().target().size() == static_cast<int64_t>(image.manifest.size()));
  CHECK(got.image().labels().at("io.cri-containerd.image") == "managed");
  CHECK(got.image().created_at().seconds() > 0);
  CHECK(got.image().updated_at().seconds() > 0);
  images::ListImagesRequest by_target;
  by_target.add_filters("target.digest==" + image.manifest_digest);
  images::ListImagesResponse records;
  REQUIRE(image_stub->List(Context().get(), by_target, &records).ok());
  std::set<std::string> names;
  for (const auto& record : records.images()) names.insert(record.name());
  // CRI made three records: the tag, name@digest and sha256:<id>.
  const std::string repository = image.ref.substr(0, image.ref.rfind(':'));
  CHECK(names == std::set<std::string>{image.ref, repository + "@" + image.manifest_digest,
                                       image.id});

  // Content: Info and Read of the config.
  auto content_stub = content::Content::NewStub(channel);
  content::InfoRequest info_request;
  info_request.set_digest(image.id);
  content::InfoResponse info;
  REQUIRE(content_stub->Info(Context().get(), info_request, &info).ok());
  CHECK(info.info().digest() == image.id);
  CHECK(info.info().size() == static_cast<int64_t>(image.config.size()));
  CHECK(info.info().created_at().seconds() > 0);
  content::ReadContentRequest read;
  read.set_digest(image.id);
  read.set_offset(2);
  read.set_size(5);
  auto context = Context();
  auto reader = content_stub->Read(context.get(), read);
  content::ReadContentResponse chunk;
  std::string data;
  while (reader->Read(&chunk)) data += chunk.data();
  REQUIRE(reader->Finish().ok());
  CHECK(data == image.config.substr(2, 5));
  // A layer of more than one chunk: each chunk's offset counts the bytes before it.
  const RegistryImage busybox = ReadRegistryImage("busybox", "1");
  REQUIRE(service->Pull(busybox.ref, {}).ok());
  read.Clear();
  read.set_digest(busybox.layers.at(0).first);
  auto layer_context = Context();
  auto layer_reader = content_stub->Read(layer_context.get(), read);
  int64_t received = 0;
  int chunks = 0;
  while (layer_reader->Read(&chunk)) {
    CHECK(chunk.offset() == received);
    received += static_cast<int64_t>(chunk.data().size());
    ++chunks;
  }
  REQUIRE(layer_reader->Finish().ok());
  CHECK(received == busybox.layers.at(0).second);
  CHECK(chunks >= 2);
  content::ListStatusesResponse statuses;
  CHECK(content_stub->ListStatuses(Context().get(), {}, &statuses).ok());

  service->Remove({image.id}, true);
}

TEST_CASE("containerd: pull a seed image and see its ID, size, digest and date", "[containerd]") {
  auto service = Service();
  const RegistryImage seed = ReadRegistryImage("busybox", "1");
  auto pulled = service->Pull(seed.ref, {});
  INFO(pulled.status());
  REQUIRE(pulled.ok());
  CHECK(pulled->id == seed.id);
  CHECK(pulled->size == seed.size());
  CHECK(Has(pulled->repo_tags, seed.ref));
  CHECK(Has(pulled->repo_digests, absl::StrCat(Registry(), "/busybox@", seed.manifest_digest)));
  absl::Time created;
  std::string error;
  REQUIRE(absl::ParseTime(absl::RFC3339_full, ParseJson(seed.config).at("created").as_string(),
                          &created, &error));
  CHECK(pulled->created == created);

  // Status by reference, full ID, bare ID, unambiguous prefix.
  const std::string hex = seed.id.substr(7);
  for (const std::string& name : {seed.ref, seed.id, hex, hex.substr(0, 12)}) {
    auto status = service->Status(name);
    INFO(name << ": " << status.status());
    REQUIRE(status.ok());
    CHECK(status->id == seed.id);
  }

  // A unique image, whose config date we chose.
  const RegistryImage unique = PullUnique(*service, "created");
  auto status = service->Status(unique.ref);
  REQUIRE(status.ok());
  CHECK(status->size == unique.size());
  CHECK(status->created == absl::FromCivil(absl::CivilSecond(2021, 5, 6, 7, 8, 9),
                                           absl::UTCTimeZone()) +
                               absl::Nanoseconds(123456789));
  auto listed = service->List({.filters = {unique.ref}});
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->at(0).created == status->created);

  auto unknown = service->Status("kim.test/never-pulled:1");
  CHECK(unknown.status().code() == absl::StatusCode::kNotFound);
  CHECK(unknown.status().message() == "image \"kim.test/never-pulled:1\": not found");
  auto missing = service->Pull(Registry() + "/kimtest/does-not-exist:1", {});
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);

  service->Remove({unique.id}, true);
}

TEST_CASE("containerd: pull progress is this pull's blobs", "[containerd]") {
  auto service = Service();
  // busybox:2 shares its base layer with busybox:1; hold busybox:1 under a name of our own.
  const RegistryImage one = ReadRegistryImage("busybox", "1");
  const RegistryImage two = ReadRegistryImage("busybox", "2");
  REQUIRE(service->Pull(one.ref, {}).ok());
  const std::string holder = "kim.test/" + Unique("holder") + ":1";
  REQUIRE(service->Tag(one.ref, {holder}).ok());

  std::vector<kim::BlobProgress> events;
  kim::PullOptions options;
  options.progress = [&events](const kim::BlobProgress& event) { events.push_back(event); };
  REQUIRE(service->Pull(two.ref, options).ok());
  std::map<std::string, kim::BlobProgress> last;
  for (const auto& event : events) last[event.digest] = event;
  REQUIRE(two.layers.size() == 2);
  const std::string base = two.layers[0].first;
  REQUIRE(base == one.layers[0].first);
  REQUIRE(last.contains(base));
  CHECK(last[base].state == kim::TransferState::kExists);
  CHECK(last[base].total == two.layers[0].second);
  REQUIRE(last.contains(two.layers[1].first));
  CHECK((last[two.layers[1].first].state == kim::TransferState::kDone ||
         last[two.layers[1].first].state == kim::TransferState::kExists));
  CHECK(last[two.layers[1].first].offset == two.layers[1].second);
  // Only this image's blobs (its manifest, resolved from the registry first, names them).
  std::set<std::string> own = {two.id, two.layers[0].first, two.layers[1].first};
  for (const auto& event : events) {
    INFO(event.digest);
    CHECK(own.contains(event.digest));
  }

  // A config nobody had before: it was downloaded by this pull.
  events.clear();
  const std::string repo = "kimtest/" + Unique("progress");
  const RegistryImage fresh = PushImage(repo, "1", UniqueConfig(Unique("progress")));
  REQUIRE(service->Pull(fresh.ref, options).ok());
  last.clear();
  for (const auto& event : events) last[event.digest] = event;
  REQUIRE(last.contains(fresh.id));
  CHECK(last[fresh.id].state == kim::TransferState::kDone);
  CHECK(last[fresh.id].offset == static_cast<int64_t>(fresh.config.size()));
  CHECK(last[fresh.id].media_type == "application/vnd.oci.image.config.v1+json");
  CHECK(last.contains(fresh.layers[0].first));

  service->Remove({holder, fresh.id}, true);
}

TEST_CASE("containerd: pull sends credentials only to their registry", "[containerd]") {
  auto service = Service();
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY_AUTH");
  const std::string ref = registry + "/hello:1";
  kim::PullOptions options;
  options.credentials.username = PeerEnv("KIM_TEST_REGISTRY_USER");
  options.credentials.password = PeerEnv("KIM_TEST_REGISTRY_PASSWORD");
  options.credentials.server_address = "registry.example.com";
  auto refused = service->Pull(ref, options);
  CHECK_FALSE(refused.ok());
  CHECK(refused.status().message().find("401 Unauthorized") != std::string::npos);

  options.credentials.server_address = "http://" + registry + "/v1/";
  auto pulled = service->Pull(ref, options);
  INFO(pulled.status());
  REQUIRE(pulled.ok());
  CHECK(Has(pulled->repo_tags, ref));
  auto results = service->Remove({ref}, false);
  CHECK(results.at(0).status.ok());
}

TEST_CASE("containerd: pull refuses a platform CRI cannot pull", "[containerd]") {
  auto service = Service();
  const kim::Platform host = kim::HostPlatform();
  const std::string other = host.architecture == "s390x" ? "linux/arm64" : "linux/s390x";
  auto refused = service->Pull(Registry() + "/hello:1", {.platform = other});
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(refused.status().message() ==
        absl::StrCat("cannot pull ", other, " images: containerd's CRI pulls only the node's "
                     "platform (", host.String(), ")"));
  auto bad = service->Pull(Registry() + "/hello:1", {.platform = "linux/"});
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  auto pulled = service->Pull(Registry() + "/hello:1", {.platform = host.String()});
  INFO(pulled.status());
  CHECK(pulled.ok());
}

TEST_CASE("containerd: tag and untag", "[containerd]") {
  auto service = Service();
  const RegistryImage image = PullUnique(*service, "tag");
  const std::string repo = "kim.test/" + Unique("tag");
  auto tagged = service->Tag(image.ref, {repo + "/a:1", repo + "/b"});
  INFO(tagged.status());
  REQUIRE(tagged.ok());
  CHECK(tagged->id == image.id);
  CHECK(Has(tagged->repo_tags, repo + "/a:1"));
  CHECK(Has(tagged->repo_tags, repo + "/b:latest"));
  CHECK(Has(tagged->repo_tags, image.ref));

  // The source may be an ID prefix; a digest target is refused.
  auto by_prefix = service->Tag(image.id.substr(7, 16), {repo + "/c:2"});
  REQUIRE(by_prefix.ok());
  CHECK(Has(by_prefix->repo_tags, repo + "/c:2"));
  CHECK(service->Tag(image.ref, {repo + "/d@" + image.manifest_digest}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(service->Tag("kim.test/never-pulled:1", {repo + "/e:1"}).status().code() ==
        absl::StatusCode::kNotFound);

  // Untag one name: the image stays with the others.
  auto results = service->Remove({repo + "/a:1"}, false);
  REQUIRE(results.size() == 1);
  INFO(results[0].status);
  REQUIRE(results[0].status.ok());
  CHECK(results[0].untagged == std::vector<std::string>{repo + "/a:1"});
  CHECK(results[0].deleted.empty());
  auto after = service->Status(image.id);
  REQUIRE(after.ok());
  CHECK_FALSE(Has(after->repo_tags, repo + "/a:1"));
  CHECK(Has(after->repo_tags, repo + "/b:latest"));
  CHECK(Has(after->repo_tags, image.ref));

  service->Remove({image.id}, true);
}

TEST_CASE("containerd: tag replaces an existing name in place", "[containerd]") {
  auto service = Service();
  const RegistryImage first = PullUnique(*service, "replace1");
  const RegistryImage second = PullUnique(*service, "replace2");
  const std::string name = "kim.test/" + Unique("replace") + ":1";
  REQUIRE(service->Tag(first.ref, {name}).ok());

  namespace images = containerd::services::images::v1;
  auto stub = images::Images::NewStub(Channel());
  images::GetImageRequest get;
  get.set_name(name);
  images::GetImageResponse before;
  REQUIRE(stub->Get(Context().get(), get, &before).ok());
  CHECK(before.image().target().digest() == first.manifest_digest);

  auto moved = service->Tag(second.ref, {name});
  REQUIRE(moved.ok());
  CHECK(moved->id == second.id);
  CHECK(Has(moved->repo_tags, name));
  images::GetImageResponse after;
  REQUIRE(stub->Get(Context().get(), get, &after).ok());
  CHECK(after.image().target().digest() == second.manifest_digest);
  // Updated, not deleted and created again.
  CHECK(after.image().created_at().seconds() == before.image().created_at().seconds());
  CHECK(after.image().created_at().nanos() == before.image().created_at().nanos());

  // The first image lost that name only.
  auto old = service->Status(first.id);
  REQUIRE(old.ok());
  CHECK_FALSE(Has(old->repo_tags, name));
  CHECK(Has(old->repo_tags, first.ref));
  auto by_name = service->Status(name);
  REQUIRE(by_name.ok());
  CHECK(by_name->id == second.id);

  service->Remove({first.id, second.id}, true);
}

TEST_CASE("containerd: rmi of an image's last tag deletes the image", "[containerd]") {
  auto service = Service();
  const RegistryImage image = PullUnique(*service, "rmi-tag");
  const std::string digest_name =
      image.ref.substr(0, image.ref.rfind(':')) + "@" + image.manifest_digest;
  auto results = service->Remove({image.ref}, false);
  REQUIRE(results.size() == 1);
  INFO(results[0].status);
  REQUIRE(results[0].status.ok());
  CHECK(results[0].image == image.ref);
  CHECK(results[0].untagged == std::vector<std::string>{image.ref, digest_name});
  CHECK(results[0].deleted == std::vector<std::string>{image.id});
  CHECK(absl::IsNotFound(service->Status(image.id).status()));

  // No record of it is left in containerd, not even sha256:<id>.
  namespace images = containerd::services::images::v1;
  images::ListImagesRequest request;
  request.add_filters("target.digest==" + image.manifest_digest);
  images::ListImagesResponse records;
  REQUIRE(images::Images::NewStub(Channel())->List(Context().get(), request, &records).ok());
  CHECK(records.images_size() == 0);
}

TEST_CASE("containerd: rmi by ID prefix, and force for several repositories", "[containerd]") {
  auto service = Service();
  const RegistryImage image = PullUnique(*service, "rmi-id");
  const std::string other = "kim.test/" + Unique("rmi-id") + ":1";
  REQUIRE(service->Tag(image.ref, {other}).ok());
  const std::string prefix = image.id.substr(7, 12);

  auto refused = service->Remove({prefix}, false);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(refused[0].status.message() ==
        absl::StrCat("conflict: unable to delete ", prefix,
                     " (must be forced) - image is referenced in multiple repositories"));
  CHECK(refused[0].untagged.empty());
  REQUIRE(service->Status(image.id).ok());
  CHECK(Has(service->Status(image.id)->repo_tags, other));

  auto forced = service->Remove({prefix}, true);
  REQUIRE(forced.size() == 1);
  INFO(forced[0].status);
  REQUIRE(forced[0].status.ok());
  CHECK(forced[0].deleted == std::vector<std::string>{image.id});
  CHECK(Has(forced[0].untagged, image.ref));
  CHECK(Has(forced[0].untagged, other));
  CHECK(absl::IsNotFound(service->Status(image.id).status()));

  // One repository only: no force needed.
  const RegistryImage single = PullUnique(*service, "rmi-id-single");
  auto removed = service->Remove({"sha256:" + single.id.substr(7, 20)}, false);
  INFO(removed[0].status);
  REQUIRE(removed[0].status.ok());
  CHECK(removed[0].deleted == std::vector<std::string>{single.id});
  CHECK(absl::IsNotFound(service->Status(single.id).status()));
}

TEST_CASE("containerd: ambiguous ID prefix and unknown images", "[containerd]") {
  auto service = Service();
  // Two configs whose IDs share their first 3 hex digits.
  std::map<std::string, std::string> by_prefix;
  std::string config_a, config_b;
  for (int i = 0; config_b.empty(); ++i) {
    const std::string config = UniqueConfig(Unique("ambiguous") + "-" + std::to_string(i));
    const std::string prefix = kim::DigestOf(config).Hex().substr(0, 3);
    if (auto it = by_prefix.find(prefix); it != by_prefix.end()) {
      config_a = it->second;
      config_b = config;
    } else {
      by_prefix[prefix] = config;
    }
  }
  const std::string repo = "kimtest/" + Unique("ambiguous");
  const RegistryImage a = PushImage(repo, "a", config_a);
  const RegistryImage b = PushImage(repo, "b", config_b);
  REQUIRE(service->Pull(a.ref, {}).ok());
  REQUIRE(service->Pull(b.ref, {}).ok());
  const std::string prefix = a.id.substr(7, 3);
  REQUIRE(b.id.substr(7, 3) == prefix);

  auto status = service->Status(prefix);
  CHECK(status.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(status.status().message())
            .starts_with(absl::StrCat("image ID prefix \"", prefix, "\" is ambiguous: it matches ")));
  auto results = service->Remove({prefix, "kim.test/never-pulled:1", "A:B:C"}, true);
  REQUIRE(results.size() == 3);
  CHECK(results[0].status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(results[0].deleted.empty());
  CHECK(results[1].status.code() == absl::StatusCode::kNotFound);
  CHECK(results[1].status.message() == "image \"kim.test/never-pulled:1\": not found");
  CHECK(results[2].status.code() == absl::StatusCode::kInvalidArgument);
  // Both still there.
  CHECK(service->Status(a.id).ok());
  CHECK(service->Status(b.id).ok());

  service->Remove({a.id, b.id}, true);
}

TEST_CASE("containerd: rmi of several arguments, one bad", "[containerd]") {
  auto service = Service();
  const RegistryImage image = PullUnique(*service, "rmi-many");
  const std::string repo = "kim.test/" + Unique("rmi-many");
  REQUIRE(service->Tag(image.ref, {repo + ":1", repo + ":2"}).ok());
  auto results = service->Remove({repo + ":1", repo + ":nope", repo + ":2"}, false);
  REQUIRE(results.size() == 3);
  CHECK(results[0].image == repo + ":1");
  CHECK(results[0].status.ok());
  CHECK(results[0].untagged == std::vector<std::string>{repo + ":1"});
  CHECK(results[1].image == repo + ":nope");
  CHECK(results[1].status.code() == absl::StatusCode::kNotFound);
  CHECK(results[2].status.ok());
  CHECK(results[2].untagged == std::vector<std::string>{repo + ":2"});
  CHECK(results[2].deleted.empty());  // the image keeps its pulled name
  auto left = service->Status(image.id);
  REQUIRE(left.ok());
  CHECK(left->repo_tags == std::vector<std::string>{image.ref});
  service->Remove({image.id}, false);
  CHECK(absl::IsNotFound(service->Status(image.id).status()));
}

TEST_CASE("containerd: list filters are docker images REPOSITORY[:TAG]", "[containerd]") {
  auto service = Service();
  const RegistryImage image = PullUnique(*service, "filter");
  const std::string repo = "kim.test/" + Unique("filter");
  REQUIRE(service->Tag(image.ref, {repo + ":1", repo + ":2", repo + "x:1"}).ok());

  auto all_tags = service->List({.filters = {repo}});
  REQUIRE(all_tags.ok());
  REQUIRE(all_tags->size() == 1);
  CHECK(all_tags->at(0).repo_tags == std::vector<std::string>{repo + ":1", repo + ":2"});
  auto one_tag = service->List({.filters = {repo + ":2"}});
  REQUIRE(one_tag.ok());
  REQUIRE(one_tag->size() == 1);
  CHECK(one_tag->at(0).repo_tags == std::vector<std::string>{repo + ":2"});
  auto glob = service->List({.filters = {repo + "*:1"}});
  REQUIRE(glob.ok());
  REQUIRE(glob->size() == 1);
  CHECK(glob->at(0).repo_tags == std::vector<std::string>{repo + ":1", repo + "x:1"});
  auto none = service->List({.filters = {repo + ":3"}});
  REQUIRE(none.ok());
  CHECK(none->empty());
  auto everything = service->List({});
  REQUIRE(everything.ok());
  CHECK(std::any_of(everything->begin(), everything->end(),
                    [&](const kim::Image& listed) { return listed.id == image.id; }));
  service->Remove({image.id}, true);
}

TEST_CASE("containerd: ContainerdBlobSource reads manifests and layers", "[containerd]") {
  auto service = Service();
  const RegistryImage seed = ReadRegistryImage("busybox", "2");
  REQUIRE(service->Pull(seed.ref, {}).ok());
  auto source = kim::NewContainerdBlobSource({.socket = Socket()});
  REQUIRE(source.ok());

  kim::Descriptor manifest{.media_type = kim::kOciManifest,
                           .digest = seed.manifest_digest,
                           .size = static_cast<int64_t>(seed.manifest.size())};
  auto bytes = (*source)->ReadAll(manifest);
  INFO(bytes.status());
  REQUIRE(bytes.ok());
  CHECK(*bytes == seed.manifest);

  const auto& [layer_digest, layer_size] = seed.layers.at(0);
  std::string layer;
  size_t chunks = 0, largest = 0;
  REQUIRE((*source)
              ->ReadChunks({.digest = layer_digest, .size = layer_size}, 64 * 1024,
                           [&](std::string_view chunk) {
                             ++chunks;
                             largest = std::max(largest, chunk.size());
                             layer.append(chunk);
                             return absl::OkStatus();
                           })
              .ok());
  CHECK(static_cast<int64_t>(layer.size()) == layer_size);
  CHECK(kim::DigestOf(layer).String() == layer_digest);
  CHECK(largest <= 64 * 1024);
  CHECK(chunks >= static_cast<size_t>(layer_size / (64 * 1024)));

  // The sink's error stops the stream and comes back.
  int calls = 0;
  const absl::Status stopped = (*source)->ReadChunks(
      {.digest = layer_digest}, 1024, [&](std::string_view) {
        ++calls;
        return absl::CancelledError("enough");
      });
  CHECK(stopped.code() == absl::StatusCode::kCancelled);
  CHECK(calls == 1);

  const std::string absent = kim::DigestOf("kim: no such blob").String();
  auto missing = (*source)->ReadAll({.digest = absent});
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message() == absl::StrCat("content ", absent, ": not found"));
  // A wrong expected size is caught.
  auto wrong = (*source)->ReadAll({.digest = seed.manifest_digest, .size = 3});
  CHECK(wrong.status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("containerd: rmi's delete leaves a name alone that now points at another image",
          "[containerd]") {
  auto connection = kim::ContainerdConnection::Open({.socket = Socket()});
  REQUIRE(connection.ok());
  auto service = Service();
  const std::string registry = kim::test::PeerEnv("KIM_TEST_REGISTRY");
  REQUIRE(service->Pull(registry + "/busybox:1", {}).ok());
  const std::string name = absl::StrCat(registry, "/", Unique("retagged"), ":1");
  REQUIRE(service->Tag(registry + "/busybox:1", {name}).ok());
  auto record = kim::GetImageRecord(**connection, name);
  REQUIRE(record.ok());
  // The caller planned to delete `name` as the image of another target: it was retagged since.
  auto deleted = kim::DeleteImageRecordIf(**connection, name, {"sha256:" + std::string(64, 'e')}, false);
  CHECK(absl::IsFailedPrecondition(deleted.status()));
  CHECK(absl::StrContains(deleted.status().message(), "was changed to another image meanwhile"));
  CHECK(kim::GetImageRecord(**connection, name).ok());
  // With the target it points at, it goes.
  deleted = kim::DeleteImageRecordIf(**connection, name, {record->target().digest()}, false);
  REQUIRE(deleted.ok());
  CHECK(*deleted);
  CHECK(absl::IsNotFound(kim::GetImageRecord(**connection, name).status()));
}
