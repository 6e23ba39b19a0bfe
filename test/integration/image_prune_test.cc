// `kim image prune` and `kim system df` against the real containerd 1.6.20 and registry, in
// local mode (--containerd-socket) and through kim-agent: exactly the dangling set goes (images
// pulled by digest only, images whose tag moved away), -a takes tagged images too, an image a
// `ctr containers create` container uses always stays, the prompt, filters, reclaimed space.
// peers: containerd registry
//
// Other tests share this containerd, so every prune here is confined to this test's images with
// --filter label=kim.test.group=GROUP (a label of the images' configs, unique per test case).
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>

#include <cpprest/json.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "containerd/services/containers/v1/containers.grpc.pb.h"
#include "containerd/services/snapshots/v1/snapshots.grpc.pb.h"
#include "kim/digest.h"
#include "kim/units.h"
#include "lib/core/http_client.h"
#include "lib/images/containerd_image_service.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"

using kim::test::Daemon;
using kim::test::PeerEnv;
using kim::test::ProcessOutput;
using kim::test::Run;
namespace http = web::http;
using web::json::value;

namespace {

std::string Socket() { return PeerEnv("KIM_TEST_CONTAINERD_SOCKET"); }
std::string Registry() { return PeerEnv("KIM_TEST_REGISTRY"); }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Unique(const std::string& what) {
  static std::atomic<int> counter{0};
  return absl::StrCat(what, "-", getpid(), "-", absl::ToUnixMicros(absl::Now()) % 1000000000,
                      "-", counter++);
}

// --- unique images in the registry (hello:1's layer under a config of our own) ---------------

http::http_response Send(http::http_request request) {
  auto client = kim::NewHttpClient({.base_url = "http://" + Registry()});
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

std::string Get(const std::string& path, const std::string& accept = "") {
  http::http_request request(http::methods::GET);
  request.set_request_uri(path);
  if (!accept.empty()) request.headers().add("Accept", accept);
  auto response = Send(request);
  REQUIRE(response.status_code() == http::status_codes::OK);
  return Body(response);
}

void Put(const std::string& path, const std::string& body, const std::string& type) {
  http::http_request put(http::methods::PUT);
  put.set_request_uri(path);
  put.set_body(std::vector<unsigned char>(body.begin(), body.end()));
  put.headers().set_content_type(type);
  REQUIRE(Send(put).status_code() == http::status_codes::Created);
}

std::string PathOf(const std::string& location) {
  const size_t scheme = location.find("://");
  return scheme == std::string::npos ? location : location.substr(location.find('/', scheme + 3));
}

// A pushed image: "REGISTRY/repo:tag", its manifest digest and image ID.
struct Pushed {
  std::string ref;
  std::string repo;  // REGISTRY/repo
  std::string digest;
  std::string id;
};

void PutBlob(const std::string& repo, const std::string& data) {
  http::http_request start(http::methods::POST);
  start.set_request_uri(absl::StrCat("/v2/", repo, "/blobs/uploads/"));
  auto started = Send(start);
  REQUIRE(started.status_code() == http::status_codes::Accepted);
  std::string location = PathOf(started.headers().find("Location")->second);
  location += location.find('?') == std::string::npos ? "?" : "&";
  Put(absl::StrCat(location, "digest=", kim::DigestOf(data).String()), data,
      "application/octet-stream");
}

// An uncompressed tar layer holding one file with unique content: every image gets layers of
// its own, so no two share a chain ID (a container's snapshot then points at one image only).
std::string UniqueLayer() {
  char dir_template[] = "/tmp/kim-prune-layer-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  REQUIRE(Run({"/bin/sh", "-c", "mkdir \"$1/data\" && echo \"$2\" > \"$1/data/id\" && "
                                "tar -cf \"$1/layer.tar\" -C \"$1/data\" id",
               "sh", dir, Unique("layer")})
              .exit_code == 0);
  const std::string layer = kim::test::ReadTextFile(dir + "/layer.tar");
  Run({"/bin/rm", "-rf", dir});
  return layer;
}

// Pushes an image of one unique layer with hello:1's config, labelled kim.test.group=`group`
// (plus a unique label) and created at `created`, as `repo:tag`.
Pushed PushUnique(const std::string& repo, const std::string& tag, const std::string& group,
                  const std::string& created = "2021-05-06T07:08:09Z") {
  value manifest = value::parse(
      Get("/v2/hello/manifests/1", "application/vnd.oci.image.manifest.v1+json"));
  value config = value::parse(Get("/v2/hello/blobs/" + manifest.at("config").at("digest").as_string()));
  const std::string layer = UniqueLayer();
  const std::string layer_digest = kim::DigestOf(layer).String();
  PutBlob(repo, layer);
  config["created"] = value::string(created);
  config["config"]["Labels"]["kim.test.group"] = value::string(group);
  config["config"]["Labels"]["kim.test.unique"] = value::string(Unique("u"));
  config["rootfs"] = value::object();
  config["rootfs"]["type"] = value::string("layers");
  config["rootfs"]["diff_ids"] = value::array({value::string(layer_digest)});
  if (config.has_field("history")) config.erase("history");
  const std::string config_text = config.serialize();
  PutBlob(repo, config_text);
  const std::string id = kim::DigestOf(config_text).String();
  manifest["config"]["digest"] = value::string(id);
  manifest["config"]["size"] = value::number(static_cast<int64_t>(config_text.size()));
  value entry = value::object();
  entry["mediaType"] = value::string("application/vnd.oci.image.layer.v1.tar");
  entry["digest"] = value::string(layer_digest);
  entry["size"] = value::number(static_cast<int64_t>(layer.size()));
  manifest["layers"] = value::array({entry});
  const std::string body = manifest.serialize();
  Put(absl::StrCat("/v2/", repo, "/manifests/", tag), body,
      "application/vnd.oci.image.manifest.v1+json");
  return {absl::StrCat(Registry(), "/", repo, ":", tag), absl::StrCat(Registry(), "/", repo),
          kim::DigestOf(body).String(), id};
}

std::unique_ptr<kim::ImageService> Service() {
  auto service = kim::NewContainerdImageService({.socket = Socket()});
  INFO(service.status());
  REQUIRE(service.ok());
  return *std::move(service);
}

void Pull(kim::ImageService& service, const std::string& ref) {
  auto pulled = service.Pull(ref, {});
  INFO(ref << ": " << pulled.status());
  REQUIRE(pulled.ok());
}

// The images of `group` as the service lists them, by ID.
std::map<std::string, kim::Image> GroupImages(kim::ImageService& service,
                                              const std::vector<std::string>& ids) {
  std::map<std::string, kim::Image> found;
  auto listed = service.List({});
  REQUIRE(listed.ok());
  for (const kim::Image& image : *listed) {
    if (std::find(ids.begin(), ids.end(), image.id) != ids.end()) found[image.id] = image;
  }
  return found;
}

// The images of one test case, in the dangling states containerd can have:
//  by_digest: pulled as repo@sha256:... only (a digest and an ID record, no tag) - dangling
//  moved:     pulled as repo:1, whose tag then moved to `mover` - dangling
//  mover:     tagged repo:1 and repo:2
//  used:      pulled by digest only (dangling) but used by a ctr container - kept
//  tagged:    pulled by tag, unused - pruned by -a only
//  moved_used: pulled as repo-f:1 and used by a ctr container made from that name, then the
//             name moved to `mover` - dangling, kept (matched by the container's snapshot)
struct Fixture {
  std::string group = Unique("group");
  Pushed by_digest, moved, mover, used, tagged, moved_used;
  std::string container = Unique("kim-prune-ctr");
  std::string container2 = Unique("kim-prune-ctr2");
  std::unique_ptr<kim::ImageService> service = Service();

  Fixture() {
    const std::string base = "kimtest/" + group;
    by_digest = PushUnique(base + "-a", "1", group);
    moved = PushUnique(base + "-b", "1", group, "2022-01-01T00:00:00Z");
    mover = PushUnique(base + "-b", "2", group);
    used = PushUnique(base + "-d", "1", group);
    tagged = PushUnique(base + "-e", "1", group);
    moved_used = PushUnique(base + "-f", "1", group);
    Pull(*service, by_digest.repo + "@" + by_digest.digest);
    Pull(*service, moved.ref);
    Pull(*service, mover.ref);
    auto retag = service->Tag(mover.ref, {moved.ref});
    INFO(retag.status());
    REQUIRE(retag.ok());
    Pull(*service, used.repo + "@" + used.digest);
    Pull(*service, tagged.ref);
    Ctr(used.repo + "@" + used.digest, container);
    Pull(*service, moved_used.ref);
    Ctr(moved_used.ref, container2);
    auto moved_away = service->Tag(mover.ref, {moved_used.ref});
    REQUIRE(moved_away.ok());
  }

  static void Ctr(const std::string& image, const std::string& id) {
    const auto created = Run({"/usr/bin/ctr", "--address", Socket(), "-n", "k8s.io", "containers",
                              "create", image, id});
    INFO(created.out << created.err);
    REQUIRE(created.exit_code == 0);
  }

  ~Fixture() {
    for (const std::string& id : {container, container2}) {
      Run({"/usr/bin/ctr", "--address", Socket(), "-n", "k8s.io", "containers", "delete", id});
    }
    service->Remove(ids(), true);
  }

  std::vector<std::string> ids() const {
    return {by_digest.id, moved.id, mover.id, used.id, tagged.id, moved_used.id};
  }
  std::string filter() const { return "label=kim.test.group=" + group; }
};

ProcessOutput LocalKim(std::vector<std::string> words, const std::string& input = "") {
  std::vector<std::string> argv = {KIM_BINARY, "--containerd-socket", Socket()};
  argv.insert(argv.end(), words.begin(), words.end());
  return Run(argv, input, {{"KIM_CONTAINERD_SOCKET", ""}});
}

std::string Reclaimed(const std::map<std::string, kim::Image>& before,
                      const std::vector<std::string>& ids) {
  double total = 0;
  for (const std::string& id : ids) total += static_cast<double>(before.at(id).size);
  return "Total reclaimed space: " + kim::HumanSize(total) + "\n";
}

}  // namespace

TEST_CASE("image prune: the prompt, then exactly the dangling set", "[prune][containerd]") {
  Fixture fixture;
  const auto before = GroupImages(*fixture.service, fixture.ids());
  REQUIRE(before.size() == 6);
  CHECK(before.at(fixture.moved.id).repo_tags.empty());
  CHECK(before.at(fixture.by_digest.id).repo_tags.empty());
  CHECK(before.at(fixture.moved_used.id).repo_tags.empty());

  // Anything but y/Y keeps everything.
  for (const std::string answer : {"n\n", "\n", "yes\n", ""}) {
    const auto no = LocalKim({"image", "prune", "--filter", fixture.filter()}, answer);
    INFO(no.out << no.err);
    CHECK(no.exit_code == 0);
    CHECK(no.out.starts_with("WARNING! This will remove all dangling images.\n"
                             "Are you sure you want to continue? [y/N] "));
    CHECK_FALSE(Contains(no.out, "deleted:"));
    CHECK(GroupImages(*fixture.service, fixture.ids()).size() == 6);
  }

  const auto yes = LocalKim({"image", "prune", "--filter", fixture.filter()}, "y\n");
  INFO(yes.out << yes.err);
  REQUIRE(yes.exit_code == 0);
  CHECK(Contains(yes.out, "Deleted Images:\n"));
  CHECK(Contains(yes.out, "deleted: " + fixture.by_digest.id + "\n"));
  CHECK(Contains(yes.out, "deleted: " + fixture.moved.id + "\n"));
  CHECK_FALSE(Contains(yes.out, fixture.used.id));
  CHECK_FALSE(Contains(yes.out, fixture.mover.id));
  CHECK_FALSE(Contains(yes.out, fixture.tagged.id));
  CHECK_FALSE(Contains(yes.out, fixture.moved_used.id));  // its container still uses it
  // Docker's order: each image's names, then the image.
  CHECK(Contains(yes.out, "untagged: " + fixture.by_digest.repo + "@" + fixture.by_digest.digest +
                              "\ndeleted: " + fixture.by_digest.id + "\n"));
  CHECK(Contains(yes.out, "untagged: " + fixture.moved.repo + "@" + fixture.moved.digest +
                              "\ndeleted: " + fixture.moved.id + "\n"));
  CHECK(yes.out.ends_with(Reclaimed(before, {fixture.by_digest.id, fixture.moved.id})));

  const auto after = GroupImages(*fixture.service, fixture.ids());
  CHECK(after.size() == 4);
  CHECK(after.contains(fixture.used.id));
  CHECK(after.contains(fixture.moved_used.id));
  CHECK(after.contains(fixture.mover.id));
  CHECK(after.contains(fixture.tagged.id));

  // A second prune finds nothing.
  const auto again = LocalKim({"image", "prune", "-f", "--filter", fixture.filter()});
  CHECK(again.exit_code == 0);
  CHECK(again.out == "Total reclaimed space: 0B\n");
}

TEST_CASE("image prune -a: every unused image, never one a container uses", "[prune][containerd]") {
  Fixture fixture;
  const auto before = GroupImages(*fixture.service, fixture.ids());
  REQUIRE(before.size() == 6);
  const auto no = LocalKim({"image", "prune", "-a", "--filter", fixture.filter()}, "N\n");
  CHECK(no.out.starts_with("WARNING! This will remove all images without at least one container "
                           "associated to them.\nAre you sure you want to continue? [y/N] "));
  CHECK(GroupImages(*fixture.service, fixture.ids()).size() == 6);

  const auto pruned = LocalKim({"image", "prune", "-a", "-f", "--filter", fixture.filter()});
  INFO(pruned.out << pruned.err);
  REQUIRE(pruned.exit_code == 0);
  CHECK_FALSE(Contains(pruned.out, "WARNING!"));
  CHECK(Contains(pruned.out, "untagged: " + fixture.tagged.ref + "\n"));
  CHECK(Contains(pruned.out, "deleted: " + fixture.tagged.id + "\n"));
  CHECK_FALSE(Contains(pruned.out, fixture.used.id));
  CHECK_FALSE(Contains(pruned.out, fixture.moved_used.id));
  // The second container was made from the name repo-f:1, which now names `mover`: kim cannot
  // tell that name's use from the image's, and keeps `mover` too.
  CHECK_FALSE(Contains(pruned.out, fixture.mover.id));
  CHECK(pruned.out.ends_with(
      Reclaimed(before, {fixture.by_digest.id, fixture.moved.id, fixture.tagged.id})));
  const auto after = GroupImages(*fixture.service, fixture.ids());
  CHECK(after.size() == 3);
  CHECK(after.contains(fixture.used.id));
  CHECK(after.contains(fixture.moved_used.id));
  CHECK(after.contains(fixture.mover.id));
}

TEST_CASE("image prune --filter until= and label!=", "[prune][containerd]") {
  Fixture fixture;
  // Nothing of the group was created before 2000, and label!=group excludes all of it.
  for (const std::string& extra : std::vector<std::string>{
           "until=2000-01-01", "label!=kim.test.group=" + fixture.group, "label=kim.test.absent"}) {
    const auto none = LocalKim({"image", "prune", "-a", "-f", "--filter", fixture.filter(),
                                "--filter", extra});
    INFO(extra << ": " << none.out << none.err);
    CHECK(none.exit_code == 0);
    CHECK(none.out == "Total reclaimed space: 0B\n");
  }
  CHECK(GroupImages(*fixture.service, fixture.ids()).size() == 6);
  // until between the two creation dates: the dangling image created 2021-05-06 goes, `moved`
  // (created 2022-01-01) stays.
  const auto dated = LocalKim({"image", "prune", "-f", "--filter", fixture.filter(), "--filter",
                               "until=2021-12-31T00:00:00Z"});
  INFO(dated.out << dated.err);
  CHECK(dated.exit_code == 0);
  CHECK(Contains(dated.out, "deleted: " + fixture.by_digest.id));
  CHECK_FALSE(Contains(dated.out, fixture.moved.id));
  // A duration counts back from now: everything of the group is older than an hour.
  const auto hour = LocalKim({"image", "prune", "-f", "--filter", fixture.filter(), "--filter",
                              "until=1h"});
  CHECK(Contains(hour.out, "deleted: " + fixture.moved.id));

  const auto bad = LocalKim({"image", "prune", "-f", "--filter", "dangling=maybe"});
  CHECK(bad.exit_code == 1);
  CHECK(Contains(bad.err, "invalid filter 'dangling'"));
  const auto bad_until = LocalKim({"image", "prune", "-f", "--filter", "until=yesterday"});
  CHECK(bad_until.exit_code == 1);
  CHECK(Contains(bad_until.err, "failed to parse value \"yesterday\" of filter until"));
}

TEST_CASE("system df: the Images row matches kim images and the containers", "[df][containerd]") {
  Fixture fixture;
  const int port = kim::test::FreeLoopbackPort();
  const auto df = LocalKim({"--buildkit-addr", absl::StrCat("127.0.0.1:", port), "system", "df",
                            "--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|"
                                        "{{.Reclaimable}}"});
  auto listed = fixture.service->List({});
  REQUIRE(listed.ok());
  INFO(df.out << df.err);
  REQUIRE(df.exit_code == 0);
  CHECK(Contains(df.err, "no Build Cache row: cannot reach buildkitd"));
  uint64_t total = 0;
  for (const kim::Image& image : *listed) total += image.size;
  // The fixture's container makes at least one image active.
  CHECK(df.out.starts_with(absl::StrCat("Images|", listed->size(), "|")));
  CHECK(Contains(df.out, absl::StrCat("|", kim::HumanSize(static_cast<double>(total)), "|")));
  CHECK_FALSE(Contains(df.out, "Images|" + std::to_string(listed->size()) + "|0|"));

  const auto verbose = LocalKim({"--buildkit-addr", absl::StrCat("127.0.0.1:", port), "system",
                                 "df", "-v"});
  CHECK(verbose.exit_code == 0);
  CHECK(verbose.out.starts_with("Images space usage:\n\nREPOSITORY"));
  // The used image (no tag) shows one container.
  const std::string short_id = fixture.used.id.substr(7, 12);
  const size_t row = verbose.out.find(short_id);
  REQUIRE(row != std::string::npos);
  const std::string line = verbose.out.substr(row, verbose.out.find('\n', row) - row);
  CHECK(line.ends_with(" 1"));

  const auto table = LocalKim({"--buildkit-addr", absl::StrCat("127.0.0.1:", port), "system",
                               "df"});
  CHECK(table.out.starts_with("TYPE "));
  CHECK(Contains(table.out, "RECLAIMABLE\nImages "));
}

TEST_CASE("image prune through kim-agent", "[prune][agent]") {
  Fixture fixture;
  const auto before = GroupImages(*fixture.service, fixture.ids());
  char dir_template[] = "/tmp/kim-prune-agent-XXXXXX";
  const std::string pki = mkdtemp(dir_template);
  REQUIRE(Run({"/bin/bash", KIM_SOURCE_DIR "/test/support/make-test-pki", pki}).exit_code == 0);
  Daemon agent({KIM_AGENT_BINARY, "--listen", "127.0.0.1:0", "--containerd-socket", Socket(),
                "--tlscacert", pki + "/ca.crt", "--tlscert", pki + "/server.crt", "--tlskey",
                pki + "/server.key"});
  const std::string line = agent.WaitForLine("serving on port");
  REQUIRE(!line.empty());
  const size_t at = line.find("port ") + 5;
  const std::string address = "127.0.0.1:" + line.substr(at, line.find(' ', at) - at);
  auto kim = [&](std::vector<std::string> words, const std::string& input = "") {
    std::vector<std::string> argv = {KIM_BINARY, "--agent-addr", address, "--tlscacert",
                                     pki + "/ca.crt", "--tlscert", pki + "/client.crt",
                                     "--tlskey", pki + "/client.key"};
    argv.insert(argv.end(), words.begin(), words.end());
    return Run(argv, input, {{"DOCKER_CONFIG", pki}, {"KIM_CONTAINERD_SOCKET", ""}});
  };
  const auto no = kim({"image", "prune", "--filter", fixture.filter()}, "n\n");
  CHECK(no.exit_code == 0);
  CHECK(GroupImages(*fixture.service, fixture.ids()).size() == 6);
  const auto pruned = kim({"image", "prune", "-f", "--filter", fixture.filter()});
  INFO(pruned.out << pruned.err);
  REQUIRE(pruned.exit_code == 0);
  CHECK(Contains(pruned.out, "deleted: " + fixture.by_digest.id));
  CHECK(Contains(pruned.out, "deleted: " + fixture.moved.id));
  CHECK(pruned.out.ends_with(Reclaimed(before, {fixture.by_digest.id, fixture.moved.id})));
  const auto all = kim({"image", "prune", "-a", "-f", "--filter", fixture.filter()});
  CHECK(all.exit_code == 0);
  const auto after = GroupImages(*fixture.service, fixture.ids());
  CHECK(after.size() == 3);
  CHECK(after.contains(fixture.used.id));
  CHECK(after.contains(fixture.moved_used.id));
  const auto bad = kim({"image", "prune", "-f", "--filter", "until=yesterday"});
  CHECK(bad.exit_code == 1);
  CHECK(Contains(bad.err, "failed to parse value"));

  // system df through the agent: the same Images row as the containerd service's list.
  const auto df = kim({"--buildkit-addr", absl::StrCat("127.0.0.1:", kim::test::FreeLoopbackPort()),
                       "system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Size}}"});
  auto listed = fixture.service->List({});
  REQUIRE(listed.ok());
  uint64_t total = 0;
  for (const kim::Image& image : *listed) total += image.size;
  INFO(df.out << df.err);
  CHECK(df.exit_code == 0);
  CHECK(df.out == absl::StrCat("Images|", listed->size(), "|",
                               kim::HumanSize(static_cast<double>(total)), "\n"));
  CHECK(Contains(df.err, "no Build Cache row"));
  agent.Stop(SIGTERM);
  Run({"/bin/rm", "-rf", pki});
}

TEST_CASE("kim's containers and snapshots protos match containerd 1.6.20", "[prune][containerd]") {
  Fixture fixture;
  auto channel = grpc::CreateChannel("unix://" + Socket(), grpc::InsecureChannelCredentials());
  auto context = [] {
    auto made = std::make_unique<grpc::ClientContext>();
    made->AddMetadata("containerd-namespace", "k8s.io");
    made->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return made;
  };
  namespace containers = containerd::services::containers::v1;
  namespace snapshots = containerd::services::snapshots::v1;
  containers::GetContainerRequest get;
  get.set_id(fixture.container);
  containers::GetContainerResponse got;
  const grpc::Status status =
      containers::Containers::NewStub(channel)->Get(context().get(), get, &got);
  INFO(status.error_message());
  REQUIRE(status.ok());
  const containers::Container& container = got.container();
  CHECK(container.id() == fixture.container);
  CHECK(container.image() == fixture.used.repo + "@" + fixture.used.digest);
  CHECK(container.snapshotter() == "overlayfs");
  CHECK(container.snapshot_key() == fixture.container);  // ctr names the snapshot after it
  CHECK(container.created_at().seconds() > 1600000000);
  CHECK(container.updated_at().seconds() >= container.created_at().seconds());

  snapshots::StatSnapshotRequest stat;
  stat.set_snapshotter(container.snapshotter());
  stat.set_key(container.snapshot_key());
  snapshots::StatSnapshotResponse info;
  REQUIRE(snapshots::Snapshots::NewStub(channel)->Stat(context().get(), stat, &info).ok());
  CHECK(info.info().name() == fixture.container);
  CHECK(info.info().kind() == snapshots::ACTIVE);
  // One layer: its chain ID is its diff ID, the digest of the uncompressed tar we pushed.
  const std::string config = Get(absl::StrCat("/v2/", fixture.used.repo.substr(Registry().size() + 1),
                                              "/blobs/", fixture.used.id));
  CHECK(info.info().parent() ==
        value::parse(config).at("rootfs").at("diff_ids").as_array().at(0).as_string());
}
