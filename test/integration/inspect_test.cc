// kim inspect / history / completion against the real containerd and registry, in local mode
// (--containerd-socket) and through kim-agent: every field checked against what containerd's own
// ctr and the registry say (config blob, manifest, snapshot usage), not against kim's own code.
// peers: containerd registry
// lock: inspect-busybox-tags
// (its tests tag the same busybox image and compare whole tag lists: under the sanitizer tree's
// slower runs, one test's tag appeared in another's list; they must not overlap)
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cpprest/json.h>

#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "kim/platform.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"

using kim::test::Daemon;
using kim::test::PeerEnv;
using kim::test::ProcessOutput;
using kim::test::Run;
using web::json::value;

namespace {

std::string Socket() { return PeerEnv("KIM_TEST_CONTAINERD_SOCKET"); }
std::string Registry() { return PeerEnv("KIM_TEST_REGISTRY"); }

std::string Unique(const std::string& what) {
  std::random_device random;
  return absl::StrCat(what, "-", getpid(), "-", random() % 1000000);
}

// Runs kim in local mode or through a kim-agent with mutual TLS.
class Kim {
 public:
  explicit Kim(bool through_agent) {
    char dir_template[] = "/tmp/kim-inspect-test-XXXXXX";
    dir_ = mkdtemp(dir_template);
    if (!through_agent) {
      prefix_ = {KIM_BINARY, "--containerd-socket", Socket()};
      return;
    }
    REQUIRE(Run({"/bin/bash", KIM_SOURCE_DIR "/test/support/make-test-pki", dir_}).exit_code == 0);
    agent_ = std::make_unique<Daemon>(std::vector<std::string>{
        KIM_AGENT_BINARY, "--listen", "127.0.0.1:0", "--containerd-socket", Socket(),
        "--tlscacert", dir_ + "/ca.crt", "--tlscert", dir_ + "/server.crt", "--tlskey",
        dir_ + "/server.key"});
    const std::string line = agent_->WaitForLine("serving on port");
    INFO(agent_->err());
    REQUIRE(!line.empty());
    const size_t port = line.find("port ") + 5;
    prefix_ = {KIM_BINARY, "--agent-addr",
               "127.0.0.1:" + line.substr(port, line.find(' ', port) - port),
               "--tlscacert", dir_ + "/ca.crt", "--tlscert", dir_ + "/client.crt",
               "--tlskey", dir_ + "/client.key"};
  }
  ~Kim() {
    if (agent_) agent_->Stop(SIGTERM);
    Run({"/bin/rm", "-rf", dir_});
  }

  ProcessOutput operator()(const std::vector<std::string>& words) const {
    std::vector<std::string> argv = prefix_;
    argv.insert(argv.end(), words.begin(), words.end());
    return Run(argv, "", {{"DOCKER_CONFIG", dir_}, {"KIM_CONTAINERD_SOCKET", ""}});
  }

 private:
  std::string dir_;
  std::unique_ptr<Daemon> agent_;
  std::vector<std::string> prefix_;
};

std::string Ctr(const std::vector<std::string>& words) {
  std::vector<std::string> argv = {"/usr/bin/ctr", "-a", Socket(), "-n", "k8s.io"};
  argv.insert(argv.end(), words.begin(), words.end());
  const auto result = Run(argv);
  INFO(absl::StrJoin(argv, " ") << ": " << result.err);
  REQUIRE(result.exit_code == 0);
  return result.out;
}

// Runs curl against the registry: `method` on `path`, optionally with a body and content type;
// returns what it printed (with -w, the HTTP status).
std::string CurlSend(const std::string& method, const std::string& path, const std::string& body,
                     const std::string& content_type) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                   "-X", method, "http://" + Registry() + path};
  if (!content_type.empty()) argv.insert(argv.end(), {"-H", "Content-Type: " + content_type});
  if (!body.empty()) argv.insert(argv.end(), {"--data-binary", "@-"});
  const auto result = Run(argv, body);
  INFO(method << " " << path << ": " << result.err);
  REQUIRE(result.exit_code == 0);
  return result.out;
}

std::string Curl(const std::string& path) {
  const auto result = Run({"/usr/bin/curl", "-fsS", "-H",
                           "Accept: application/vnd.oci.image.manifest.v1+json",
                           "http://" + Registry() + path});
  INFO(path << ": " << result.err);
  REQUIRE(result.exit_code == 0);
  return result.out;
}

// Sorted-key serialisation: equal JSON documents give equal strings.
std::string Canonical(const std::string& json) { return value::parse(json).serialize(); }
std::string Canonical(const value& json) { return Canonical(json.serialize()); }

std::vector<std::string> Strings(const value& array) {
  std::vector<std::string> out;
  if (!array.is_array()) return out;
  for (const value& item : array.as_array()) out.push_back(item.as_string());
  return out;
}

bool Has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// A seed image pulled and given a unique name of ours (other tests share the containerd).
struct Pulled {
  std::string seed;     // "busybox:1"
  std::string source;   // REGISTRY/busybox:1
  std::string mine;     // localhost/kim-inspect-...:1
  std::string id;       // config digest, from the registry's manifest
  std::string manifest_digest;
  std::string config;   // the config blob, from containerd through ctr
  uint64_t size = 0;    // manifest + config + layers, as CRI counts
};

Pulled PullSeed(const Kim& kim, const std::string& repo, const std::string& tag) {
  Pulled image{.seed = repo + ":" + tag, .source = Registry() + "/" + repo + ":" + tag,
               .mine = "localhost/" + Unique("kim-inspect") + ":" + tag};
  const auto pull = kim({"pull", image.source});
  INFO(pull.out << pull.err);
  REQUIRE(pull.exit_code == 0);
  REQUIRE(kim({"tag", image.source, image.mine}).exit_code == 0);
  const std::string manifest = Curl("/v2/" + repo + "/manifests/" + tag);
  const auto sha = Run({"/usr/bin/sha256sum"}, manifest);
  image.manifest_digest = "sha256:" + sha.out.substr(0, 64);
  const value parsed = value::parse(manifest);
  image.id = parsed.at("config").at("digest").as_string();
  image.config = Ctr({"content", "get", image.id});
  image.size = manifest.size() + image.config.size();
  for (const value& layer : parsed.at("layers").as_array()) {
    image.size += layer.at("size").as_number().to_uint64();
  }
  return image;
}

void CheckInspectObject(const value& object, const Pulled& image) {
  const value config = value::parse(image.config);
  CHECK(object.at("Id").as_string() == image.id);
  CHECK(Has(Strings(object.at("RepoTags")), image.mine));
  CHECK(Has(Strings(object.at("RepoDigests")),
            Registry() + "/" + image.seed.substr(0, image.seed.find(':')) + "@" +
                image.manifest_digest));
  CHECK(object.at("Parent").as_string() == "");
  absl::Time inspected, configured;
  std::string error;
  REQUIRE(absl::ParseTime(absl::RFC3339_full, object.at("Created").as_string(), &inspected, &error));
  REQUIRE(absl::ParseTime(absl::RFC3339_full, config.at("created").as_string(), &configured, &error));
  CHECK(inspected == configured);
  CHECK(object.at("Architecture").as_string() == config.at("architecture").as_string());
  CHECK(object.at("Os").as_string() == config.at("os").as_string());
  CHECK(object.has_field("Variant") == config.has_field("variant"));
  CHECK(Canonical(object.at("Config")) == Canonical(config.at("config")));
  CHECK(object.at("RootFS").at("Type").as_string() == config.at("rootfs").at("type").as_string());
  CHECK(Strings(object.at("RootFS").at("Layers")) == Strings(config.at("rootfs").at("diff_ids")));
  CHECK(object.at("Size").as_number().to_uint64() == image.size);
  CHECK(object.at("Metadata").has_field("LastTagTime"));
}

}  // namespace

TEST_CASE("kim inspect: Docker's JSON, checked against the config blob", "[inspect][cli]") {
  for (const bool through_agent : {false, true}) {
    CAPTURE(through_agent);
    Kim kim(through_agent);
    const Pulled busybox = PullSeed(kim, "busybox", "1");
    const Pulled hello = PullSeed(kim, "hello", "1");
    const std::string missing = "localhost/" + Unique("kim-inspect-missing") + ":1";

    // The missing image is reported after the others are printed, in Docker's words.
    const auto inspect = kim({"inspect", busybox.mine, missing, hello.mine});
    INFO(inspect.err);
    CHECK(inspect.exit_code == 1);
    CHECK(inspect.err == "Error: No such image: " + missing + "\n");
    REQUIRE(inspect.out.starts_with("[\n    {\n        \"Id\": \""));
    const value array = value::parse(inspect.out);
    REQUIRE(array.size() == 2);
    CheckInspectObject(array.at(0), busybox);
    CheckInspectObject(array.at(1), hello);

    // RepoTags and RepoDigests are the names `kim images` shows for the image.
    const auto images = kim({"images", "--no-trunc", "--digests", "--format",
                             "{{.ID}} {{.Repository}}:{{.Tag}} {{.Repository}}@{{.Digest}}"});
    REQUIRE(images.exit_code == 0);
    const auto tags = Strings(array.at(0).at("RepoTags"));
    const auto digests = Strings(array.at(0).at("RepoDigests"));
    for (absl::string_view line : absl::StrSplit(images.out, '\n', absl::SkipEmpty())) {
      const std::vector<std::string> cells = absl::StrSplit(line, ' ');
      if (cells.size() != 3 || cells[0] != busybox.id) continue;
      if (cells[1] == busybox.mine || cells[1].starts_with(Registry())) {
        CHECK(Has(tags, cells[1]));
        if (!cells[2].ends_with("<none>")) CHECK(Has(digests, cells[2]));
      }
    }

    // `image inspect` is the same command; nothing found prints [] and fails.
    const auto alone = kim({"image", "inspect", missing});
    CHECK(alone.exit_code == 1);
    CHECK(alone.out == "[]\n");
    CHECK(alone.err == "Error: No such image: " + missing + "\n");
    // By ID too.
    const auto by_id = kim({"inspect", "--format", "{{.Id}}", busybox.id.substr(7, 12)});
    CHECK(by_id.exit_code == 0);
    CHECK(by_id.out == busybox.id + "\n");
  }
}

TEST_CASE("kim inspect of a multi-platform image shows the node's platform", "[inspect][cli]") {
  // An index in a repository of its own: another platform's manifest (busybox:2) listed first,
  // the node's (busybox:1) second. Blobs are mounted from the seed repository.
  const std::string repo = "kimtest/" + Unique("inspect-index");
  const kim::Platform host = kim::HostPlatform();
  const std::string other_arch = host.architecture == "amd64" ? "arm64" : "amd64";
  std::string entries;
  for (const auto& [tag, arch] : {std::pair<std::string, std::string>{"2", other_arch},
                                  std::pair<std::string, std::string>{"1", host.architecture}}) {
    const std::string manifest = Curl("/v2/busybox/manifests/" + tag);
    const value parsed = value::parse(manifest);
    std::vector<std::string> blobs = {parsed.at("config").at("digest").as_string()};
    for (const value& layer : parsed.at("layers").as_array()) {
      blobs.push_back(layer.at("digest").as_string());
    }
    for (const std::string& blob : blobs) {
      CHECK(CurlSend("POST", "/v2/" + repo + "/blobs/uploads/?mount=" + blob + "&from=busybox",
                     "", "") == "201");
    }
    const std::string digest =
        "sha256:" + Run({"/usr/bin/sha256sum"}, manifest).out.substr(0, 64);
    REQUIRE(CurlSend("PUT", "/v2/" + repo + "/manifests/" + digest, manifest,
                     "application/vnd.oci.image.manifest.v1+json") == "201");
    absl::StrAppend(&entries, entries.empty() ? "" : ",",
                    R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")",
                    digest, R"(","size":)", manifest.size(),
                    R"(,"platform":{"os":"linux","architecture":")", arch, R"("}})");
  }
  const std::string index = absl::StrCat(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)",
      entries, "]}");
  REQUIRE(CurlSend("PUT", "/v2/" + repo + "/manifests/1", index,
                   "application/vnd.oci.image.index.v1+json") == "201");
  const std::string index_digest = "sha256:" + Run({"/usr/bin/sha256sum"}, index).out.substr(0, 64);

  for (const bool through_agent : {false, true}) {
    CAPTURE(through_agent);
    Kim kim(through_agent);
    const std::string ref = Registry() + "/" + repo + ":1";
    const auto pull = kim({"pull", ref});
    INFO(pull.out << pull.err);
    REQUIRE(pull.exit_code == 0);
    const std::string busybox1 = value::parse(Curl("/v2/busybox/manifests/1"))
                                     .at("config").at("digest").as_string();
    const auto inspect = kim({"inspect", ref});
    INFO(inspect.err);
    REQUIRE(inspect.exit_code == 0);
    const value object = value::parse(inspect.out).at(0);
    CHECK(object.at("Id").as_string() == busybox1);
    CHECK(object.at("Architecture").as_string() == host.architecture);
    CHECK(Has(Strings(object.at("RepoDigests")), Registry() + "/" + repo + "@" + index_digest));
    const auto history = kim({"history", "-q", ref});
    CHECK(history.exit_code == 0);
    CHECK(history.out.starts_with(busybox1.substr(7, 12) + "\n"));
  }
}

TEST_CASE("kim inspect --format: Go templates over the inspect JSON", "[inspect][cli]") {
  Kim kim(false);
  const Pulled image = PullSeed(kim, "busybox", "1");
  const value config = value::parse(image.config);
  auto format = [&](const std::string& text) {
    const auto result = kim({"inspect", "-f", text, image.mine});
    INFO(text << ": " << result.err);
    CHECK(result.exit_code == 0);
    return result.out;
  };
  CHECK(format("{{.Id}}") == image.id + "\n");
  CHECK(format("{{.Os}}/{{.Architecture}}") ==
        config.at("os").as_string() + "/" + config.at("architecture").as_string() + "\n");
  CHECK(Canonical(format("{{json .Config}}")) == Canonical(config.at("config")));
  const std::vector<std::string> env = Strings(config.at("config").at("Env"));
  REQUIRE_FALSE(env.empty());
  CHECK(format("{{.Config.Env}}") == "[" + absl::StrJoin(env, " ") + "]\n");
  const auto tags = kim({"inspect", "--format", "{{join .RepoTags \",\"}}", image.mine});
  const std::vector<std::string> listed = absl::StrSplit(tags.out.substr(0, tags.out.size() - 1), ',');
  CHECK(Has(listed, image.mine));
  CHECK(format("{{index .RepoTags 0}}") == listed.front() + "\n");
  CHECK(format("{{range .RepoTags}}{{.}}{{\"\\n\"}}{{end}}") == absl::StrJoin(listed, "\n") + "\n\n");
  // One line per image.
  const auto two = kim({"inspect", "-f", "{{.Id}}", image.mine, image.source});
  CHECK(two.out == image.id + "\n" + image.id + "\n");
  // A template that does not parse is a usage error, before anything is contacted.
  const auto bad = Run({KIM_BINARY, "--containerd-socket", "/nonexistent.sock", "inspect", "-f",
                        "{{.Id", image.mine});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.starts_with("template parsing error: template: :1: unclosed action\n"));
}

TEST_CASE("kim history: the config's history, sizes from containerd's snapshots",
          "[history][cli]") {
  for (const bool through_agent : {false, true}) {
    CAPTURE(through_agent);
    Kim kim(through_agent);
    const Pulled image = PullSeed(kim, "busybox", "1");
    const value config = value::parse(image.config);
    const auto& history = config.at("history").as_array();
    const std::vector<std::string> diff_ids = Strings(config.at("rootfs").at("diff_ids"));

    const auto out = kim({"history", "-H=false", "--no-trunc", "--format",
                          "{{.ID}}|{{.CreatedAt}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}",
                          image.mine});
    INFO(out.err);
    REQUIRE(out.exit_code == 0);
    const std::vector<std::string> rows = absl::StrSplit(out.out, '\n', absl::SkipEmpty());
    REQUIRE(rows.size() == history.size());
    // Sizes of the unpacked layers as ctr reports them for each layer's chain ID.
    std::vector<std::string> chain;
    for (const std::string& diff_id : diff_ids) {
      if (chain.empty()) {
        chain.push_back(diff_id);
      } else {
        const auto sum = Run({"/usr/bin/sha256sum"}, chain.back() + " " + diff_id);
        chain.push_back("sha256:" + sum.out.substr(0, 64));
      }
    }
    size_t layer = 0;
    for (size_t i = 0; i < history.size(); ++i) {
      const value& step = history.at(i);
      const std::vector<std::string> cells = absl::StrSplit(rows[history.size() - 1 - i], '|');
      REQUIRE(cells.size() == 5);
      CHECK(cells[0] == (i + 1 == history.size() ? image.id : "<missing>"));
      std::string created_by = step.has_field("created_by") ? step.at("created_by").as_string() : "";
      std::replace(created_by.begin(), created_by.end(), '\t', ' ');
      CHECK(cells[2] == created_by);
      absl::Time shown, configured;
      std::string error;
      REQUIRE(absl::ParseTime(absl::RFC3339_full, cells[1], &shown, &error));
      REQUIRE(absl::ParseTime(absl::RFC3339_full, step.at("created").as_string(), &configured, &error));
      CHECK(shown == absl::FromUnixSeconds(absl::ToUnixSeconds(configured)));
      const bool empty = step.has_field("empty_layer") && step.at("empty_layer").as_bool();
      if (empty) {
        CHECK(cells[3] == "0");
        continue;
      }
      REQUIRE(layer < chain.size());
      const std::string usage = Ctr({"snapshots", "--snapshotter", "overlayfs", "usage", "-b",
                                     chain[layer++]});
      std::istringstream words(usage.substr(usage.find('\n') + 1));
      std::string key, bytes;
      words >> key >> bytes;
      CHECK(cells[3] == bytes);
      CHECK(std::stoll(bytes) > 0);
    }
    CHECK(layer == diff_ids.size());

    // The default table, -q and a missing image.
    const auto table = kim({"image", "history", image.mine});
    REQUIRE(table.exit_code == 0);
    CHECK(table.out.starts_with("IMAGE          CREATED"));
    CHECK(table.out.find("\n" + image.id.substr(7, 12) + "   ") != std::string::npos);
    const auto quiet = kim({"history", "-q", image.mine});
    CHECK(quiet.out.starts_with(image.id.substr(7, 12) + "\n"));
    const std::string missing = "localhost/" + Unique("kim-history-missing") + ":1";
    const auto gone = kim({"history", missing});
    CHECK(gone.exit_code == 1);
    CHECK(gone.err == "Error: No such image: " + missing + "\n");
  }
}

TEST_CASE("kim completion bash completes image names from the backend", "[completion][cli]") {
  Kim kim(false);
  const Pulled image = PullSeed(kim, "busybox", "1");
  const std::string script = KIM_BINARY;
  const std::string bin_dir = script.substr(0, script.rfind('/'));
  // The script calls `kim images`: the kim on PATH, with the socket from the environment.
  const auto result = Run(
      {"/bin/bash", "-c",
       "source <(kim completion bash); COMP_WORDS=(kim inspect ''); COMP_CWORD=2; _kim; "
       "printf '%s\\n' \"${COMPREPLY[@]}\""},
      "", {{"PATH", bin_dir + ":/usr/bin:/bin"}, {"KIM_CONTAINERD_SOCKET", Socket()}});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(("\n" + result.out).find("\n" + image.mine + "\n") != std::string::npos);
  CHECK(result.out.find("<none>") == std::string::npos);
}
