// Distribution agent to agent, with two real containerds (the shared peers' as node "a", a
// private one as node "b") and two real kim-agents sharing one test PKI: an image sent a -> b
// keeps its ID and names and is pinned; a second image sharing base layers moves only its new
// blobs (bytes counted); b's agent killed mid-transfer leaves no image, lease or content and the
// retry completes; a blob whose bytes do not match its digest is refused (DATA_LOSS) with nothing
// named; Pin(false) removes the label; a cancelled distribution leaves nothing on the receiver.
// peers: containerd
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <thread>

#include <cpprest/json.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "containerd/services/content/v1/content.grpc.pb.h"
#include "containerd/services/images/v1/images.grpc.pb.h"
#include "containerd/services/leases/v1/leases.grpc.pb.h"
#include "k8s/cri/runtime/v1/cri.grpc.pb.h"
#include "kim/agent/v1/agent.grpc.pb.h"
#include "kim/digest.h"
#include "lib/images/containerd_image_service.h"
#include "test/support/peers.h"
#include "test/support/private_peers.h"
#include "test/support/run_process.h"
#include "test/support/temp_dir.h"
#include "test/support/test_agent.h"
#include "test/support/test_images.h"

using kim::test::PeerEnv;
using kim::test::PrivatePeers;
using kim::test::ReadTextFile;
using kim::test::TestAgent;

namespace {

namespace content = ::containerd::services::content::v1;
namespace images = ::containerd::services::images::v1;
namespace leases = ::containerd::services::leases::v1;
namespace v1 = ::kim::agent::v1;

constexpr char kReceiveLease[] = "kim.rancher.io/receive";

std::string Unique(const std::string& what) {
  return absl::StrCat(what, "-", getpid(), "-", absl::ToUnixMicros(absl::Now()) % 1000000000);
}

std::unique_ptr<kim::ImageService> Containerd(const std::string& socket) {
  auto service = kim::NewContainerdImageService({.socket = socket});
  INFO(service.status());
  REQUIRE(service.ok());
  return *std::move(service);
}

std::unique_ptr<grpc::ClientContext> ContainerdContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("containerd-namespace", "k8s.io");
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

std::shared_ptr<grpc::Channel> ContainerdChannel(const std::string& socket) {
  return grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials());
}

// The labels of containerd's record `name`; fails the test when there is none.
std::map<std::string, std::string> RecordLabels(const std::string& socket, const std::string& name) {
  auto stub = images::Images::NewStub(ContainerdChannel(socket));
  images::GetImageRequest request;
  request.set_name(name);
  images::GetImageResponse response;
  const grpc::Status status = stub->Get(ContainerdContext().get(), request, &response);
  INFO(name << ": " << status.error_message());
  REQUIRE(status.ok());
  return {response.image().labels().begin(), response.image().labels().end()};
}

// The labels of blob `digest`, or nullopt when containerd does not have it.
std::optional<std::map<std::string, std::string>> BlobLabels(const std::string& socket,
                                                             const std::string& digest) {
  auto stub = content::Content::NewStub(ContainerdChannel(socket));
  content::InfoRequest request;
  request.set_digest(digest);
  content::InfoResponse response;
  const grpc::Status status = stub->Info(ContainerdContext().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return std::nullopt;
  INFO(status.error_message());
  REQUIRE(status.ok());
  return std::map<std::string, std::string>(response.info().labels().begin(),
                                            response.info().labels().end());
}

// Whether containerd's CRI at `socket` reports the image `ref` as pinned (kept from the
// kubelet's image GC); fails the test when CRI does not know the image.
bool CriPinned(const std::string& socket, const std::string& ref) {
  auto stub = runtime::v1::ImageService::NewStub(ContainerdChannel(socket));
  runtime::v1::ImageStatusRequest request;
  request.mutable_image()->set_image(ref);
  runtime::v1::ImageStatusResponse response;
  const grpc::Status status = stub->ImageStatus(ContainerdContext().get(), request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(response.has_image());
  return response.image().pinned();
}

// How many leases of receives containerd at `socket` has.
int ReceiveLeases(const std::string& socket) {
  auto stub = leases::Leases::NewStub(ContainerdChannel(socket));
  leases::ListResponse listed;
  REQUIRE(stub->List(ContainerdContext().get(), {}, &listed).ok());
  int count = 0;
  for (const auto& lease : listed.leases()) count += lease.labels().contains(kReceiveLease);
  return count;
}

// True while containerd at `socket` is receiving the blob `digest` (an active ingest).
bool Ingesting(const std::string& socket, const std::string& digest) {
  const auto active = kim::test::Run({"/usr/bin/ctr", "-a", socket, "-n", "k8s.io", "content", "active"});
  return absl::StrContains(active.out, digest.substr(digest.find(':') + 1));
}

// Waits (up to `seconds`) until `ready()`; fails the test with `what` when it never is.
void WaitUntil(const std::function<bool()>& ready, const std::string& what, int seconds = 30) {
  for (int i = 0; i < seconds * 50; ++i) {
    if (ready()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("timed out waiting until " << what);
}

// A layered image (test/support/image-archive layered) loaded into `local`; returns what the
// tool printed: the layers', config's and manifest's digests and sizes.
web::json::value LoadLayeredImage(kim::ImageService& local, const std::string& name,
                                  const std::vector<std::string>& layers) {
  kim::test::TempDir dir;
  const std::string archive = dir / "image.tar";
  std::vector<std::string> argv = {"/usr/bin/python3", KIM_SOURCE_DIR "/test/support/image-archive",
                                   "layered", archive, name};
  argv.insert(argv.end(), layers.begin(), layers.end());
  const auto made = kim::test::Run(argv);
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  kim::test::LoadArchiveFile(local, archive);
  return web::json::value::parse(made.out);
}

int64_t Size(const web::json::value& blob) { return blob.at("size").as_number().to_int64(); }
std::string DigestOf(const web::json::value& blob) { return blob.at("digest").as_string(); }

// Node b's containerd: a private one (scripts/peers), or the one whose socket
// KIM_TEST_DISTRIBUTION_B_SOCKET names (to run these tests against another containerd, e.g. 2.x).
std::string NodeBSocket(std::unique_ptr<PrivatePeers>& peers) {
  if (const char* socket = getenv("KIM_TEST_DISTRIBUTION_B_SOCKET"); socket && *socket) return socket;
  peers = std::make_unique<PrivatePeers>("containerd");
  return peers->Env("KIM_TEST_CONTAINERD_SOCKET");
}

// Two nodes: "a" the shared containerd with its agent, "b" a private containerd with an agent
// that trusts the same CA; `client` drives a's agent as kim would.
struct TwoNodes {
  TwoNodes()
      : socket_a(PeerEnv("KIM_TEST_CONTAINERD_SOCKET")), socket_b(NodeBSocket(peers_b)),
        agent_a(std::make_unique<TestAgent>(socket_a)),
        agent_b(std::make_unique<TestAgent>(socket_b, agent_a->pki)),
        local_a(Containerd(socket_a)), local_b(Containerd(socket_b)), client(agent_a->Images()) {}

  // Distributes `refs` from a to b through a's agent; returns b's result.
  kim::NodeDistribution ToB(const std::vector<std::string>& refs,
                            std::vector<kim::DistributeProgress>* progress = nullptr) {
    kim::DistributeOptions options;
    // The name b's certificate carries, checked instead of the dialled address.
    options.targets = {{.node = "b", .address = agent_b->address, .server_name = "localhost"}};
    if (progress != nullptr) {
      options.progress = [progress](const kim::DistributeProgress& p) { progress->push_back(p); };
    }
    auto results = client->Distribute(refs, options);
    INFO(results.status());
    REQUIRE(results.ok());
    REQUIRE(results->size() == 1);
    return results->front();
  }

  std::unique_ptr<PrivatePeers> peers_b;  // declared first: socket_b's initializer starts it
  std::string socket_a;
  std::string socket_b;
  std::unique_ptr<TestAgent> agent_a;
  std::unique_ptr<TestAgent> agent_b;
  std::unique_ptr<kim::ImageService> local_a;
  std::unique_ptr<kim::ImageService> local_b;
  std::unique_ptr<kim::ImageService> client;
};

}  // namespace

TEST_CASE("distribution: an image sent a -> b keeps its ID and names, is pinned and labelled for GC",
          "[distribution]") {
  TwoNodes nodes;
  const std::string name = Unique("kim-dist-one");
  const std::string ref = absl::StrCat("docker.io/library/", name, ":1");
  const auto blobs = LoadLayeredImage(*nodes.local_a, ref, {name + "-base:256", name + "-top:64"});
  REQUIRE(nodes.local_a->Tag(ref, {ref + "-also"}).ok());
  auto on_a = nodes.local_a->Status(ref);
  REQUIRE(on_a.ok());

  // By ID: the image goes with every name it has (given by tag, only that tag goes, as
  // `kim save` keeps names: checked at the end).
  std::vector<kim::DistributeProgress> progress;
  const kim::NodeDistribution result = nodes.ToB({on_a->id}, &progress);
  INFO(result.status);
  REQUIRE(result.status.ok());
  CHECK(result.node == "b");
  CHECK(result.blobs_total == 4);  // manifest, config, two layers
  CHECK(result.blobs_sent == 4);
  CHECK(result.names.size() == 2);
  REQUIRE_FALSE(progress.empty());
  CHECK(progress.front().phase == kim::DistributeProgress::Phase::kComparing);
  CHECK(progress.back().phase == kim::DistributeProgress::Phase::kDone);
  CHECK(progress.back().node == "b");

  auto on_b = nodes.local_b->Status(ref);
  INFO(on_b.status());
  REQUIRE(on_b.ok());
  CHECK(on_b->id == on_a->id);
  std::vector<std::string> tags_a = on_a->repo_tags, tags_b = on_b->repo_tags;
  std::sort(tags_a.begin(), tags_a.end());
  std::sort(tags_b.begin(), tags_b.end());
  CHECK(tags_b == tags_a);
  for (const std::string& tag : on_a->repo_tags) {
    const auto labels = RecordLabels(nodes.socket_b, tag);
    CHECK(labels.at("io.cri-containerd.image") == "managed");
    CHECK(labels.at("io.cri-containerd.pinned") == "pinned");
  }
  // containerd >= 1.7 reports the label to the kubelet as a pinned image; 1.6 ignores it.
  auto version = nodes.local_b->Version();
  REQUIRE(version.ok());
  const bool honours_pin = !absl::StartsWith(absl::StripPrefix(version->version, "v"), "1.6");
  WARN("b runs containerd " << version->version << ": CRI reports the image pinned: "
       << CriPinned(nodes.socket_b, ref));
  CHECK(CriPinned(nodes.socket_b, ref) == honours_pin);
  // The same GC labels as a load or pull: the manifest holds its config and layers, each layer
  // knows its uncompressed digest.
  const auto manifest = BlobLabels(nodes.socket_b, DigestOf(blobs.at("manifest")));
  REQUIRE(manifest.has_value());
  CHECK(manifest->at("containerd.io/gc.ref.content.config") == DigestOf(blobs.at("config")));
  CHECK(manifest->at("containerd.io/gc.ref.content.l.1") == DigestOf(blobs.at("layers").at(1)));
  const auto layer = BlobLabels(nodes.socket_b, DigestOf(blobs.at("layers").at(0)));
  REQUIRE(layer.has_value());
  CHECK(layer->at("containerd.io/uncompressed") == DigestOf(blobs.at("layers").at(0)));
  CHECK(ReceiveLeases(nodes.socket_b) == 0);  // the receive's lease ended with it
  CHECK_FALSE(nodes.agent_b->daemon->WaitForLine("kim-agent: receive " + ref, 5).empty());

  // Sent again, to b and to a node whose agent is gone: nothing moves to b, which succeeds,
  // and the other node fails on its own.
  kim::DistributeOptions options;
  const std::string dead = absl::StrCat("127.0.0.1:", kim::test::FreeLoopbackPort());
  options.targets = {{.node = "gone", .address = dead}, {.node = "b", .address = nodes.agent_b->address}};
  auto again = nodes.client->Distribute({ref}, options);
  INFO(again.status());
  REQUIRE(again.ok());
  REQUIRE(again->size() == 2);
  INFO((*again)[0].status);
  CHECK(absl::IsUnavailable((*again)[0].status));
  CHECK(absl::StrContains((*again)[0].status.message(), "node \"gone\": cannot reach kim-agent at " + dead));
  INFO((*again)[1].status);
  CHECK((*again)[1].status.ok());
  CHECK((*again)[1].blobs_sent == 0);
  CHECK((*again)[1].bytes_sent == 0);
  CHECK((*again)[1].names.size() == 1);  // by tag: that tag alone

  // Given by tag, only that tag is named on the receiver.
  const std::string other = absl::StrCat("docker.io/library/", name, ":other");
  REQUIRE(nodes.local_a->Tag(ref, {other}).ok());
  const kim::NodeDistribution by_tag = nodes.ToB({other});
  INFO(by_tag.status);
  REQUIRE(by_tag.status.ok());
  CHECK(by_tag.names == std::vector<std::string>{other});
  auto tagged_b = nodes.local_b->Status(ref);
  REQUIRE(tagged_b.ok());
  CHECK(std::count(tagged_b->repo_tags.begin(), tagged_b->repo_tags.end(), other) == 1);
  (void)nodes.local_a->Remove({on_a->id}, true);
  (void)nodes.local_b->Remove({on_a->id}, true);
}

TEST_CASE("distribution: a second image sharing base layers sends only its new blobs",
          "[distribution]") {
  TwoNodes nodes;
  const std::string name = Unique("kim-dist-shared");
  const std::string first = absl::StrCat("docker.io/library/", name, ":1");
  const std::string second = absl::StrCat("docker.io/library/", name, ":2");
  const std::vector<std::string> base = {name + "-base1:1024", name + "-base2:512"};
  std::vector<std::string> layers_1 = base, layers_2 = base;
  layers_1.push_back(name + "-app1:128");
  layers_2.push_back(name + "-app2:96");
  const auto blobs_1 = LoadLayeredImage(*nodes.local_a, first, layers_1);
  const auto blobs_2 = LoadLayeredImage(*nodes.local_a, second, layers_2);

  const kim::NodeDistribution one = nodes.ToB({first});
  INFO(one.status);
  REQUIRE(one.status.ok());
  int64_t all_1 = Size(blobs_1.at("config")) + Size(blobs_1.at("manifest"));
  for (const auto& layer : blobs_1.at("layers").as_array()) all_1 += Size(layer);
  CHECK(one.bytes_sent == all_1);

  const kim::NodeDistribution two = nodes.ToB({second});
  INFO(two.status);
  REQUIRE(two.status.ok());
  const int64_t new_2 = Size(blobs_2.at("layers").at(2)) + Size(blobs_2.at("config")) +
                        Size(blobs_2.at("manifest"));
  WARN("shared base: the first image moved " << one.bytes_sent << " bytes, the second "
       << two.bytes_sent << " (its new layer, config and manifest: " << new_2 << ")");
  CHECK(two.blobs_total == 5);
  CHECK(two.blobs_sent == 3);
  CHECK(two.bytes_sent == new_2);
  auto on_b = nodes.local_b->Status(second);
  REQUIRE(on_b.ok());
  CHECK(on_b->id == DigestOf(blobs_2.at("config")));
  (void)nodes.local_a->Remove({first, second}, false);
}

TEST_CASE("distribution: b's agent killed mid-transfer leaves nothing there and the retry completes",
          "[distribution][faults]") {
  TwoNodes nodes;
  const std::string ref = absl::StrCat("docker.io/library/", Unique("kim-dist-kill"), ":1");
  const std::string layer = kim::test::LoadRandomImage(*nodes.local_a, ref, 200);

  auto sending = std::async(std::launch::async, [&] { return nodes.ToB({ref}); });
  WaitUntil([&] { return Ingesting(nodes.socket_b, layer); }, "b's containerd receives the layer");
  REQUIRE(nodes.agent_b->daemon->Stop(SIGKILL) == 128 + SIGKILL);
  const kim::NodeDistribution failed = sending.get();
  WARN("b's agent killed mid-transfer: " << failed.status);
  CHECK(absl::IsUnavailable(failed.status));
  CHECK(absl::StrContains(failed.status.message(), "node \"b\": lost kim-agent at " + nodes.agent_b->address));
  CHECK(absl::StrContains(failed.status.message(), "nothing was named there"));
  CHECK(failed.names.empty());
  CHECK_FALSE(nodes.local_b->Status(ref).ok());
  CHECK(ReceiveLeases(nodes.socket_b) == 1);  // what the dead receive wrote is still held

  // The agent is back (the kubelet restarts it): it removes the dead receive's lease, and with
  // it every blob that receive had written.
  nodes.agent_b = std::make_unique<TestAgent>(nodes.socket_b, nodes.agent_a->pki);
  CHECK_FALSE(nodes.agent_b->daemon->WaitForLine("removed 1 unfinished receive", 10).empty());
  WaitUntil([&] { return ReceiveLeases(nodes.socket_b) == 0; }, "the dead receive's lease is gone");
  CHECK_FALSE(nodes.local_b->Status(ref).ok());
  CHECK_FALSE(BlobLabels(nodes.socket_b, layer).has_value());
  CHECK_FALSE(Ingesting(nodes.socket_b, layer));

  const auto retry_started = std::chrono::steady_clock::now();
  const kim::NodeDistribution retry = nodes.ToB({ref});
  WARN("the retry sent " << retry.bytes_sent << " bytes in "
       << std::chrono::duration<double>(std::chrono::steady_clock::now() - retry_started).count()
       << " s");
  INFO(retry.status);
  CHECK(retry.status.ok());
  CHECK(nodes.local_b->Status(ref).ok());
  CHECK(BlobLabels(nodes.socket_b, layer).has_value());
  (void)nodes.local_a->Remove({ref}, false);
}

TEST_CASE("distribution: a blob whose bytes do not match its digest is refused and nothing is named",
          "[distribution]") {
  TwoNodes nodes;
  const std::string ref = absl::StrCat("docker.io/library/", Unique("kim-dist-corrupt"), ":1");
  // A valid image: config, one layer, manifest; the layer then goes out with one byte flipped.
  std::string layer(256 << 10, '\0');
  for (size_t i = 0; i < layer.size(); ++i) layer[i] = static_cast<char>((i * 7919) >> 3);
  const std::string layer_digest = kim::DigestOf(layer).String();
  const std::string config = absl::StrCat(
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")",
      layer_digest, R"("]}})");
  const std::string config_digest = kim::DigestOf(config).String();
  const std::string manifest = absl::StrCat(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)",
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")",
      config_digest, R"(","size":)", config.size(), R"(},"layers":[{"mediaType":)",
      R"("application/vnd.oci.image.layer.v1.tar","digest":")", layer_digest, R"(","size":)",
      layer.size(), "}]}");
  const std::string manifest_digest = kim::DigestOf(manifest).String();
  std::string corrupted = layer;
  corrupted[1000] ^= 1;
  const std::string corrupted_digest = kim::DigestOf(corrupted).String();

  // A sender of our own, speaking Transfer.Receive to b's agent with a's certificate.
  grpc::SslCredentialsOptions ssl{.pem_root_certs = ReadTextFile(nodes.agent_a->pki + "/ca.crt"),
                                  .pem_private_key = ReadTextFile(nodes.agent_a->pki + "/server.key"),
                                  .pem_cert_chain = ReadTextFile(nodes.agent_a->pki + "/server.crt")};
  auto stub = v1::Transfer::NewStub(grpc::CreateChannel(nodes.agent_b->address, grpc::SslCredentials(ssl)));
  grpc::ClientContext context;
  auto stream = stub->Receive(&context);
  v1::ReceiveRequest request;
  v1::TransferImage* image = request.mutable_offer()->add_images();
  image->add_names(ref);
  auto describe = [](v1::BlobDescriptor* out, const std::string& type, const std::string& digest,
                     size_t size) {
    out->set_media_type(type);
    out->set_digest(digest);
    out->set_size(static_cast<int64_t>(size));
  };
  describe(image->mutable_target(), "application/vnd.oci.image.manifest.v1+json", manifest_digest, manifest.size());
  describe(request.mutable_offer()->add_blobs(), "application/vnd.oci.image.manifest.v1+json", manifest_digest, manifest.size());
  describe(request.mutable_offer()->add_blobs(), "application/vnd.oci.image.config.v1+json", config_digest, config.size());
  describe(request.mutable_offer()->add_blobs(), "application/vnd.oci.image.layer.v1.tar", layer_digest, layer.size());
  REQUIRE(stream->Write(request));
  v1::ReceiveResponse response;
  REQUIRE(stream->Read(&response));
  REQUIRE(response.wants().digests_size() == 3);  // b has none of them
  // Another agent starting on b's containerd meanwhile leaves this live receive alone.
  REQUIRE(ReceiveLeases(nodes.socket_b) == 1);
  {
    TestAgent beside(nodes.socket_b, nodes.agent_a->pki);
    absl::SleepFor(absl::Seconds(1));  // its start-up cleanup runs in the background
    CHECK(beside.daemon->err().find("unfinished receive") == std::string::npos);
  }
  CHECK(ReceiveLeases(nodes.socket_b) == 1);
  const std::map<std::string, std::string> bytes = {
      {manifest_digest, manifest}, {config_digest, config}, {layer_digest, corrupted}};
  for (const std::string& digest : response.wants().digests()) {
    request.mutable_chunk()->set_digest(digest);
    request.mutable_chunk()->set_offset(0);
    request.mutable_chunk()->set_data(bytes.at(digest));
    if (!stream->Write(request)) break;  // refused: Finish says why
  }
  request.mutable_commit();
  stream->Write(request);
  stream->WritesDone();
  while (stream->Read(&response)) {
  }
  const grpc::Status status = stream->Finish();
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::DATA_LOSS);
  CHECK(absl::StrContains(status.error_message(), "blob " + layer_digest + ": digest mismatch"));
  CHECK(absl::StrContains(status.error_message(), corrupted_digest));  // what arrived
  CHECK(absl::StrContains(status.error_message(), "nothing was named"));
  CHECK_FALSE(nodes.local_b->Status(ref).ok());
  // The receive's lease went with it, and every blob it had written (the manifest and config
  // came whole) with the lease.
  CHECK(ReceiveLeases(nodes.socket_b) == 0);
  CHECK_FALSE(BlobLabels(nodes.socket_b, manifest_digest).has_value());
  CHECK_FALSE(BlobLabels(nodes.socket_b, config_digest).has_value());
  CHECK_FALSE(BlobLabels(nodes.socket_b, layer_digest).has_value());
}

TEST_CASE("distribution: Pin(false) removes the pinned label from every record, Pin(true) sets it",
          "[distribution]") {
  TwoNodes nodes;
  const std::string name = Unique("kim-dist-pin");
  const std::string ref = absl::StrCat("docker.io/library/", name, ":1");
  LoadLayeredImage(*nodes.local_a, ref, {name + "-only:32"});
  const kim::NodeDistribution result = nodes.ToB({ref});
  INFO(result.status);
  REQUIRE(result.status.ok());
  REQUIRE(RecordLabels(nodes.socket_b, ref).contains("io.cri-containerd.pinned"));

  auto client_b = nodes.agent_b->Images();
  const absl::Status unpinned = client_b->Pin({ref}, false);
  INFO(unpinned);
  REQUIRE(unpinned.ok());
  auto labels = RecordLabels(nodes.socket_b, ref);
  CHECK_FALSE(labels.contains("io.cri-containerd.pinned"));
  CHECK(labels.at("io.cri-containerd.image") == "managed");  // other labels stay
  REQUIRE(client_b->Pin({ref}, true).ok());
  CHECK(RecordLabels(nodes.socket_b, ref).at("io.cri-containerd.pinned") == "pinned");
  CHECK(absl::IsNotFound(client_b->Pin({"kim-no-such-image:1"}, true)));

  // Without pinning, the distributed records carry no label.
  REQUIRE(client_b->Pin({ref}, false).ok());
  kim::DistributeOptions options;
  options.pin = false;
  options.targets = {{.node = "b", .address = nodes.agent_b->address}};
  auto again = nodes.client->Distribute({ref}, options);
  REQUIRE(again.ok());
  INFO(again->front().status);
  CHECK(again->front().status.ok());
  CHECK_FALSE(RecordLabels(nodes.socket_b, ref).contains("io.cri-containerd.pinned"));
  (void)nodes.local_a->Remove({ref}, false);
}

TEST_CASE("distribution: a cancelled distribution stops on every node and leaves nothing there",
          "[distribution]") {
  TwoNodes nodes;
  const std::string ref = absl::StrCat("docker.io/library/", Unique("kim-dist-cancel"), ":1");
  const std::string layer = kim::test::LoadRandomImage(*nodes.local_a, ref, 200);

  kim::Cancellation cancellation;
  kim::DistributeOptions options;
  options.targets = {{.node = "b", .address = nodes.agent_b->address}};
  options.cancellation = &cancellation;
  auto sending = std::async(std::launch::async, [&] { return nodes.client->Distribute({ref}, options); });
  WaitUntil([&] { return Ingesting(nodes.socket_b, layer); }, "b's containerd receives the layer");
  const auto cancelled_at = std::chrono::steady_clock::now();
  cancellation.Cancel();
  const auto result = sending.get();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - cancelled_at).count();
  INFO(result.status());
  CHECK(absl::IsCancelled(result.status()));
  CHECK(seconds < 5);
  // b's agent saw the sender go: its receive ended, and its lease with all it held.
  WaitUntil([&] { return ReceiveLeases(nodes.socket_b) == 0; }, "b's receive lease is gone", 10);
  CHECK_FALSE(nodes.local_b->Status(ref).ok());
  CHECK_FALSE(BlobLabels(nodes.socket_b, layer).has_value());
  WaitUntil([&] { return !Ingesting(nodes.socket_b, layer); }, "b's ingest ends", 10);

  const kim::NodeDistribution again = nodes.ToB({ref});
  INFO(again.status);
  CHECK(again.status.ok());
  (void)nodes.local_a->Remove({ref}, false);
}

// By hand only (hidden): distributes the image KIM_TEST_DISTRIBUTE_REF from node a to node b
// with their sockets set as above (e.g. two lab nodes' containerds), to check that a kubelet runs
// what arrived with imagePullPolicy: Never.
TEST_CASE("distribution (by hand): KIM_TEST_DISTRIBUTE_REF from a to b", "[.][distribution]") {
  const char* ref = getenv("KIM_TEST_DISTRIBUTE_REF");
  REQUIRE(ref != nullptr);
  TwoNodes nodes;
  const kim::NodeDistribution result = nodes.ToB({ref});
  WARN(ref << " to b: " << result.status << ", " << result.blobs_sent << " of "
       << result.blobs_total << " blobs, " << result.bytes_sent << " bytes, names "
       << absl::StrJoin(result.names, " "));
  CHECK(result.status.ok());
}
