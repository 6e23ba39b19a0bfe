// Push and pull through kim-agent (not a local socket), the containerd lease a push holds on
// what it reads, and cancellation: a cancelled pull or push (the library's Cancellation, a client
// that cancels its call, Ctrl-C in the CLI) stops the work on the agent, leaves no image, tag or
// lease behind, and the next try completes.
// peers: containerd registry
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "containerd/services/content/v1/content.grpc.pb.h"
#include "containerd/services/images/v1/images.grpc.pb.h"
#include "containerd/services/leases/v1/leases.grpc.pb.h"
#include "kim/connect.h"
#include "kim/reference.h"
#include "lib/images/containerd_image_service.h"
#include "lib/images/registry_client.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"
#include "test/support/temp_dir.h"
#include "test/support/test_agent.h"

using kim::test::PeerEnv;
using kim::test::ReadTextFile;
using kim::test::TestAgent;

namespace {

namespace content = ::containerd::services::content::v1;
namespace images = ::containerd::services::images::v1;
namespace leases = ::containerd::services::leases::v1;
using Clock = std::chrono::steady_clock;

std::string Unique(const std::string& what) {
  return absl::StrCat(what, "-", getpid(), "-", absl::ToUnixMicros(absl::Now()) % 1000000000);
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<kim::ImageService> Local() {
  auto service = kim::NewContainerdImageService({.socket = PeerEnv("KIM_TEST_CONTAINERD_SOCKET")});
  REQUIRE(service.ok());
  return *std::move(service);
}

// Loads a fresh image named `name` whose one layer is `megabytes` of random bytes; returns
// the layer's digest.
std::string LoadBigImage(kim::ImageService& local, const std::string& name, int megabytes) {
  kim::test::TempDir dir;
  const std::string archive = dir / "big.tar";
  const auto made = kim::test::Run({"/usr/bin/python3", KIM_SOURCE_DIR "/test/support/image-archive",
                                    "make", archive, name, absl::StrCat("--size-mb=", megabytes)});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  std::ifstream in(archive, std::ios::binary);
  auto loaded = local.Load([&in]() -> absl::StatusOr<std::string> {
    std::string piece(1 << 20, '\0');
    in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
    piece.resize(static_cast<size_t>(in.gcount()));
    return piece;
  });
  INFO(loaded.status());
  REQUIRE(loaded.ok());
  return std::string(absl::StripAsciiWhitespace(made.out));
}

// The digest of the manifest containerd's record `name` points at.
std::string RootDigest(const std::string& name) {
  auto stub = images::Images::NewStub(grpc::CreateChannel(
      "unix://" + PeerEnv("KIM_TEST_CONTAINERD_SOCKET"), grpc::InsecureChannelCredentials()));
  images::GetImageRequest request;
  request.set_name(name);
  images::GetImageResponse response;
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("containerd-namespace", "k8s.io");
  REQUIRE(stub->Get(context.get(), request, &response).ok());
  return response.image().target().digest();
}

std::unique_ptr<grpc::ClientContext> ContainerdContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("containerd-namespace", "k8s.io");
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

// Every lease in containerd's k8s.io namespace, with the content digests each holds.
std::map<std::string, std::set<std::string>> LeasedContent() {
  auto stub = leases::Leases::NewStub(grpc::CreateChannel(
      "unix://" + PeerEnv("KIM_TEST_CONTAINERD_SOCKET"), grpc::InsecureChannelCredentials()));
  leases::ListResponse listed;
  REQUIRE(stub->List(ContainerdContext().get(), {}, &listed).ok());
  std::map<std::string, std::set<std::string>> held;
  for (const auto& lease : listed.leases()) {
    leases::ListResourcesRequest request;
    request.set_id(lease.id());
    leases::ListResourcesResponse resources;
    if (!stub->ListResources(ContainerdContext().get(), request, &resources).ok()) continue;
    auto& digests = held[lease.id()];
    for (const auto& resource : resources.resources()) {
      if (resource.type() == "content") digests.insert(resource.id());
    }
  }
  return held;
}

bool AnyLeaseHolds(const std::string& digest) {
  for (const auto& [id, digests] : LeasedContent()) {
    if (digests.contains(digest)) return true;
  }
  return false;
}

// Waits up to 10 s for containerd's garbage collector to drop the blob `digest`; true when gone.
bool ContentGone(const std::string& digest) {
  auto stub = content::Content::NewStub(grpc::CreateChannel(
      "unix://" + PeerEnv("KIM_TEST_CONTAINERD_SOCKET"), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 100; ++i) {
    content::InfoRequest request;
    request.set_digest(digest);
    content::InfoResponse response;
    if (stub->Info(ContainerdContext().get(), request, &response).error_code() ==
        grpc::StatusCode::NOT_FOUND) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Whether the registry has a manifest for `ref`.
bool RegistryHas(const std::string& ref) {
  auto parsed = kim::ImageReference::ParseNormalized(ref);
  REQUIRE(parsed.ok());
  auto client = kim::RegistryClient::Create({.host = parsed->Domain()});
  REQUIRE(client.ok());
  auto resolved = (*client)->Resolve(*parsed);
  if (absl::IsNotFound(resolved.status())) return false;
  INFO(resolved.status());
  REQUIRE(resolved.ok());
  return true;
}

// Push options that cancel `cancellation` at the first byte that moves.
kim::PushOptions CancelAtFirstBytes(kim::Cancellation& cancellation, Clock::time_point& when) {
  kim::PushOptions options;
  options.cancellation = &cancellation;
  options.progress = [&cancellation, &when](const kim::BlobProgress& progress) {
    if (progress.state == kim::TransferState::kTransferring && !cancellation.IsCancelled()) {
      when = Clock::now();
      cancellation.Cancel();
    }
  };
  return options;
}

}  // namespace

TEST_CASE("agent: push and pull go through kim-agent to the registry and back", "[agent]") {
  TestAgent agent;
  auto remote = agent.Images();
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY");
  const std::string seed = registry + "/busybox:2";
  REQUIRE(remote->Pull(seed, {}).ok());
  const std::string target = absl::StrCat(registry, "/", Unique("agentpush"), "/app:v1");
  REQUIRE(remote->Tag(seed, {target}).ok());

  auto digest = remote->Push(target, {});
  INFO(digest.status());
  REQUIRE(digest.ok());
  CHECK(RegistryHas(target));
  CHECK(absl::StrContains(agent.daemon->WaitForLine("kim-agent: push " + target), "by "));

  // Gone from the node, then pulled back from the registry through the agent.
  auto removed = remote->Remove({target}, false);
  REQUIRE(removed.size() == 1);
  REQUIRE(removed.front().status.ok());
  CHECK(absl::IsNotFound(remote->Status(target).status()));
  auto pulled = remote->Pull(target, {});
  INFO(pulled.status());
  REQUIRE(pulled.ok());
  CHECK(!agent.daemon->WaitForLine("kim-agent: pull " + target).empty());
  auto seed_image = remote->Status(seed);
  REQUIRE(seed_image.ok());
  CHECK(pulled->id == seed_image->id);

  // And the CLI, through the agent.
  const auto pushed = agent.Kim({"push", target});
  INFO(pushed.err);
  CHECK(pushed.exit_code == 0);
  CHECK(absl::StrContains(pushed.out, "v1: digest: " + *digest));
}

TEST_CASE("agent: a push holds a containerd lease on what it reads and ends it after",
          "[agent]") {
  auto local = Local();
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY");
  const std::string seed = registry + "/busybox:1";
  REQUIRE(local->Pull(seed, {}).ok());
  const std::string target = absl::StrCat(registry, "/", Unique("leasepush"), "/app:v1");
  REQUIRE(local->Tag(seed, {target}).ok());

  std::atomic<bool> looked{false};
  std::map<std::string, std::set<std::string>> during;
  kim::PushOptions options;
  options.progress = [&](const kim::BlobProgress&) {
    if (!looked.exchange(true)) during = LeasedContent();
  };
  auto digest = local->Push(target, options);
  INFO(digest.status());
  REQUIRE(digest.ok());
  REQUIRE(looked);
  bool held = false;
  for (const auto& [id, digests] : during) held = held || digests.contains(*digest);
  CHECK(held);
  CHECK_FALSE(AnyLeaseHolds(*digest));
}

TEST_CASE("agent: a cancelled push through kim-agent stops before the manifest", "[agent]") {
  TestAgent agent;
  auto local = Local();
  auto remote = agent.Images();
  const std::string target =
      absl::StrCat(PeerEnv("KIM_TEST_REGISTRY"), "/", Unique("cancelpush"), "/big:1");
  LoadBigImage(*local, target, 96);
  const std::string root = RootDigest(target);

  kim::Cancellation cancellation;
  Clock::time_point cancelled_at{};
  auto pushed = remote->Push(target, CancelAtFirstBytes(cancellation, cancelled_at));
  const double seconds = SecondsSince(cancelled_at);
  INFO(pushed.status());
  CHECK(absl::IsCancelled(pushed.status()));
  CHECK(seconds < 5);
  // The agent saw the cancellation and ended its lease; the registry has no image.
  bool held = AnyLeaseHolds(root);
  for (int i = 0; i < 50 && held; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    held = AnyLeaseHolds(root);
  }
  CHECK_FALSE(held);
  CHECK_FALSE(RegistryHas(target));

  // The next push completes.
  auto again = remote->Push(target, {});
  INFO(again.status());
  REQUIRE(again.ok());
  CHECK(RegistryHas(target));
  CHECK_FALSE(AnyLeaseHolds(*again));
  local->Remove({target}, true);
}

TEST_CASE("agent: a cancelled pull through kim-agent leaves no image and the next one works",
          "[agent]") {
  TestAgent agent;
  auto local = Local();
  auto remote = agent.Images();
  const std::string target =
      absl::StrCat(PeerEnv("KIM_TEST_REGISTRY"), "/", Unique("cancelpull"), "/big:1");
  const std::string layer = LoadBigImage(*local, target, 160);
  REQUIRE(local->Push(target, {}).ok());
  auto removed = local->Remove({target}, true);
  REQUIRE(removed.front().status.ok());
  REQUIRE(ContentGone(layer));  // so that the pull below really downloads it

  kim::Cancellation cancellation;
  Clock::time_point cancelled_at{};
  kim::PullOptions options;
  options.cancellation = &cancellation;
  options.progress = [&](const kim::BlobProgress& progress) {
    if (progress.state == kim::TransferState::kTransferring && progress.offset > 0 &&
        !cancellation.IsCancelled()) {
      cancelled_at = Clock::now();
      cancellation.Cancel();
    }
  };
  auto pulled = remote->Pull(target, options);
  const double seconds = SecondsSince(cancelled_at);
  INFO(pulled.status());
  CHECK(absl::IsCancelled(pulled.status()));
  CHECK(seconds < 5);
  // containerd's pull stopped: no image appears, and its lease is gone.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(absl::IsNotFound(local->Status(target).status()));
  CHECK_FALSE(AnyLeaseHolds(layer));
  CHECK(ContentGone(layer));

  // Ctrl-C in `kim pull` does the same through the CLI.
  // (The agent's log already has the library's pull; look only after it.)
  REQUIRE_FALSE(agent.daemon->WaitForLine("kim-agent: pull " + target, 5).empty());
  const size_t logged = agent.daemon->err().size();
  kim::test::TempDir config;
  kim::test::Daemon kim({"/usr/bin/env", "DOCKER_CONFIG=" + config.path(), "KIM_CONTAINERD_SOCKET=",
                         KIM_BINARY, "--agent-addr", agent.address, "--tlscacert",
                         agent.pki + "/ca.crt", "--tlscert", agent.pki + "/client.crt",
                         "--tlskey", agent.pki + "/client.key", "pull", target});
  REQUIRE_FALSE(agent.daemon->WaitForLine("kim-agent: pull " + target, 10, logged).empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto interrupted = Clock::now();
  CHECK(kim.Stop(SIGINT, 10) == 130);
  CHECK(SecondsSince(interrupted) < 5);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(absl::IsNotFound(local->Status(target).status()));
  CHECK(ContentGone(layer));

  // The next pull completes.
  auto again = remote->Pull(target, {});
  INFO(again.status());
  REQUIRE(again.ok());
  CHECK(again->size > 100u << 20);
  local->Remove({target}, true);
}
