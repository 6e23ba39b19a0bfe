// kim save and kim load through kim-agent (and on a local containerd socket) against the real
// containerd and registry, checked with tools nobody here wrote: skopeo and ctr read what kim
// saves with the same digests, kim loads what skopeo writes, and broken archives leave nothing.
// peers: containerd registry
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "test/support/peers.h"
#include "test/support/run_process.h"
#include "test/support/test_agent.h"

using kim::test::PeerEnv;
using kim::test::ProcessOutput;
using kim::test::Run;
using kim::test::TestAgent;

namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Unique() {
  std::random_device random;
  return std::to_string(random() % 1000000);
}

// A scratch folder removed at the end of the test.
struct Scratch {
  std::string path;
  Scratch() {
    char name[] = "/tmp/kim-archive-test-XXXXXX";
    path = mkdtemp(name);
  }
  ~Scratch() { Run({"/bin/rm", "-rf", path}); }
};

ProcessOutput Ctr(std::vector<std::string> words, const std::string& ns = "k8s.io") {
  std::vector<std::string> argv = {"/usr/bin/ctr", "-a", PeerEnv("KIM_TEST_CONTAINERD_SOCKET"),
                                   "-n", ns};
  argv.insert(argv.end(), words.begin(), words.end());
  return Run(argv);
}

ProcessOutput Skopeo(std::vector<std::string> words) {
  words.insert(words.begin(), "/usr/bin/skopeo");
  return Run(words);
}

// The digest a containerd image record points at, from `ctr images ls`.
std::string RecordTarget(const std::string& name, const std::string& ns = "k8s.io") {
  const auto listed = Ctr({"images", "ls", "name==" + name}, ns);
  std::istringstream lines(listed.out);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string ref, type, digest;
    words >> ref >> type >> digest;
    if (ref == name) return digest;
  }
  return "";
}

// Whether the content store has blob `digest`.
bool HasContent(const std::string& digest) {
  const auto listed = Ctr({"content", "ls"});
  REQUIRE(listed.exit_code == 0);
  return Contains(listed.out, digest + "\t");
}

std::string Sha256File(const std::string& path) {
  const auto sum = Run({"/usr/bin/sha256sum", path});
  return "sha256:" + sum.out.substr(0, 64);
}

// `kim images --format` of one image: "ID" (full) for `name`, or "" when absent.
std::string ImageId(const TestAgent& agent, const std::string& name) {
  const auto listed = agent.Kim({"images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"});
  std::istringstream lines(listed.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(name + " ")) return line.substr(name.size() + 1);
  }
  return "";
}

}  // namespace

TEST_CASE("kim save: skopeo and ctr read the archive with the image's own digests", "[archive]") {
  TestAgent agent;
  Scratch scratch;
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY");
  const std::string busybox = registry + "/busybox:1", hello = registry + "/hello:1";
  REQUIRE(agent.Kim({"pull", busybox}).exit_code == 0);
  REQUIRE(agent.Kim({"pull", hello}).exit_code == 0);
  const std::string manifest = RecordTarget(busybox);
  REQUIRE(manifest.starts_with("sha256:"));
  const std::string id = ImageId(agent, busybox);
  REQUIRE(id.starts_with("sha256:"));

  const std::string archive = scratch.path + "/both.tar";
  const auto saved = agent.Kim({"save", "-o", archive, busybox, hello});
  INFO(saved.err);
  REQUIRE(saved.exit_code == 0);
  CHECK(saved.out.empty());

  // ctr reads it as an OCI layout: the same manifests under the same names.
  const std::string ns = "kim-archive-" + Unique();
  const auto imported = Ctr({"images", "import", "--no-unpack", archive}, ns);
  INFO(imported.out << imported.err);
  REQUIRE(imported.exit_code == 0);
  CHECK(RecordTarget(busybox, ns) == manifest);
  CHECK(RecordTarget(hello, ns) == RecordTarget(hello));
  Ctr({"images", "rm", busybox, hello}, ns);
  Ctr({"namespaces", "rm", ns}, "default");

  // skopeo reads it as a docker-archive: the same config (image ID), layers uncompressed to
  // the config's diff IDs.
  const auto docker = Skopeo({"inspect", "--raw", "docker-archive:" + archive + ":" + busybox});
  INFO(docker.err);
  REQUIRE(docker.exit_code == 0);
  CHECK(Contains(docker.out, id));

  // The OCI format alone: skopeo copies the manifest byte for byte.
  const std::string oci = scratch.path + "/busybox-oci.tar";
  REQUIRE(agent.Kim({"save", "--format", "oci", "-o", oci, busybox}).exit_code == 0);
  CHECK(Run({"/usr/bin/tar", "tf", oci}).out.find("manifest.json") == std::string::npos);
  const auto copied = Skopeo({"copy", "-q", "oci-archive:" + oci, "dir:" + scratch.path + "/dir"});
  INFO(copied.err);
  REQUIRE(copied.exit_code == 0);
  CHECK(Sha256File(scratch.path + "/dir/manifest.json") == manifest);
}

TEST_CASE("kim save, rmi, load round-trips the image over stdout and stdin", "[archive]") {
  TestAgent agent;
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY");
  const std::string source = registry + "/busybox:2";
  const std::string mine = "localhost/kim-archive-" + Unique() + ":v1";
  REQUIRE(agent.Kim({"pull", source}).exit_code == 0);
  REQUIRE(agent.Kim({"tag", source, mine}).exit_code == 0);
  const std::string id = ImageId(agent, mine), manifest = RecordTarget(mine);
  REQUIRE(!id.empty());

  const auto saved = agent.Kim({"save", mine});  // stdout is a pipe here
  INFO(saved.err);
  REQUIRE(saved.exit_code == 0);
  REQUIRE(saved.out.size() > 1024);
  REQUIRE(agent.Kim({"rmi", mine}).exit_code == 0);
  REQUIRE(ImageId(agent, mine).empty());

  const auto loaded = agent.Kim({"load"}, "client", saved.out);
  INFO(loaded.err);
  REQUIRE(loaded.exit_code == 0);
  CHECK(loaded.out == "Loaded image: " + mine + "\n");
  CHECK(ImageId(agent, mine) == id);
  CHECK(RecordTarget(mine) == manifest);
  agent.Kim({"rmi", mine});
}

TEST_CASE("kim load reads skopeo's docker-archive and oci-archive, plain and gzip", "[archive]") {
  TestAgent agent;
  Scratch scratch;
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY");
  const std::string source = "docker://" + registry + "/busybox:2";
  REQUIRE(agent.Kim({"pull", registry + "/busybox:2"}).exit_code == 0);
  const std::string id = ImageId(agent, registry + "/busybox:2");
  const std::string name = "localhost/kim-skopeo-" + Unique();

  const std::string docker = scratch.path + "/docker.tar", oci = scratch.path + "/oci.tar";
  REQUIRE(Skopeo({"copy", "-q", "--src-tls-verify=false", source,
                  "docker-archive:" + docker + ":" + name + ":docker"}).exit_code == 0);
  REQUIRE(Skopeo({"copy", "-q", "--src-tls-verify=false", source,
                  "oci-archive:" + oci + ":" + name + ":oci"}).exit_code == 0);
  REQUIRE(Run({"/usr/bin/gzip", "-k", docker}).exit_code == 0);

  for (const auto& [archive, tag] : std::vector<std::pair<std::string, std::string>>{
           {docker, "docker"}, {oci, "oci"}, {docker + ".gz", "docker"}}) {
    INFO(archive);
    const auto loaded = agent.Kim({"load", "-i", archive});
    INFO(loaded.err);
    REQUIRE(loaded.exit_code == 0);
    CHECK(loaded.out == "Loaded image: " + name + ":" + tag + "\n");
    CHECK(ImageId(agent, name + ":" + tag) == id);
  }
  agent.Kim({"rmi", name + ":docker", name + ":oci"});
}

TEST_CASE("kim load refuses broken archives by digest and leaves nothing behind", "[archive]") {
  TestAgent agent;
  Scratch scratch;
  const std::string tool = KIM_SOURCE_DIR "/test/support/image-archive";
  const std::string name = "localhost/kim-broken-" + Unique() + ":1";

  struct Case {
    std::string mode, message;
  };
  for (const Case& broken : std::vector<Case>{
           {"--missing-layer", "the archive is missing layer"},
           {"--wrong-digest", "does not match its digest"},
           {"--truncate", "the archive is truncated"},
           {"--diff-id", "as its config says (tampered or corrupt archive)"}}) {
    INFO(broken.mode);
    const std::string archive = scratch.path + "/broken.tar";
    const auto made = Run({tool, "make", archive, name, broken.mode});
    REQUIRE(made.exit_code == 0);
    const std::string layer = made.out.substr(0, made.out.find('\n'));
    const auto loaded = agent.Kim({"load", "-i", archive});
    CHECK(loaded.exit_code == 1);
    CHECK(Contains(loaded.err, broken.message));
    CHECK(ImageId(agent, name).empty());
    CHECK_FALSE(HasContent(layer));  // the lease took it with it
  }

  // A good archive of the same kind loads, so the broken ones failed for their flaw.
  const std::string good = scratch.path + "/good.tar";
  const auto made = Run({tool, "make", good, name});
  REQUIRE(made.exit_code == 0);
  const auto loaded = agent.Kim({"load", "-i", good});
  INFO(loaded.err);
  CHECK(loaded.exit_code == 0);
  CHECK(!ImageId(agent, name).empty());
  CHECK(HasContent(made.out.substr(0, made.out.find('\n'))));

  // A saved archive with one byte of a layer changed.
  const std::string saved = scratch.path + "/saved.tar", tampered = scratch.path + "/tampered.tar";
  REQUIRE(agent.Kim({"save", "-o", saved, name}).exit_code == 0);
  REQUIRE(Run({tool, "tamper", saved, tampered}).exit_code == 0);
  const auto refused = agent.Kim({"load", "-i", tampered});
  CHECK(refused.exit_code == 1);
  CHECK(Contains(refused.err, "does not match its digest"));
  agent.Kim({"rmi", name});

  const auto text = agent.Kim({"load"}, "client", "hello, this is not a tar\n");
  CHECK(text.exit_code == 1);
  CHECK(Contains(text.err, "not an image archive: not a tar archive"));
  const auto empty = agent.Kim({"load"}, "client", "");
  CHECK(empty.exit_code == 1);
  CHECK(Contains(empty.err, "the archive is empty"));
  const auto missing = agent.Kim({"load", "-i", scratch.path + "/nothing.tar"});
  CHECK(missing.exit_code == 1);
  CHECK(Contains(missing.err, "cannot open " + scratch.path + "/nothing.tar"));
}

TEST_CASE("kim save refuses a missing image and a terminal, and writes no file", "[archive]") {
  TestAgent agent;
  Scratch scratch;
  const std::string output = scratch.path + "/out.tar";
  const auto missing = agent.Kim({"save", "-o", output, "localhost/kim-nothing-" + Unique() + ":1"});
  CHECK(missing.exit_code == 1);
  CHECK(Contains(missing.err, "not found"));
  CHECK(access(output.c_str(), F_OK) != 0);
  CHECK(Run({"/bin/sh", "-c", "ls " + scratch.path + " | wc -l"}).out == "0\n");

  // On a terminal (script(1) gives the command one) Docker's refusal, before any connection.
  const auto tty = Run({"/usr/bin/script", "-qec",
                        std::string(KIM_BINARY) + " save busybox", "/dev/null"});
  CHECK(tty.exit_code == 1);
  CHECK(Contains(tty.out, "cowardly refusing to save to a terminal"));
}

TEST_CASE("kim save and load on a local containerd socket", "[archive][local]") {
  Scratch scratch;
  const std::string socket = PeerEnv("KIM_TEST_CONTAINERD_SOCKET");
  const std::string registry = PeerEnv("KIM_TEST_REGISTRY");
  const std::string source = registry + "/hello:1";
  const std::string mine = "localhost/kim-local-archive-" + Unique() + ":1";
  auto kim = [&](std::vector<std::string> words) {
    words.insert(words.begin(), {KIM_BINARY, "--containerd-socket", socket});
    return Run(words, "", {{"DOCKER_CONFIG", scratch.path}});
  };
  REQUIRE(kim({"pull", source}).exit_code == 0);
  REQUIRE(kim({"tag", source, mine}).exit_code == 0);
  const std::string archive = scratch.path + "/local.tar";
  REQUIRE(kim({"image", "save", "-o", archive, mine}).exit_code == 0);
  REQUIRE(kim({"rmi", mine}).exit_code == 0);
  const auto loaded = kim({"image", "load", "-i", archive});
  INFO(loaded.err);
  CHECK(loaded.exit_code == 0);
  CHECK(loaded.out == "Loaded image: " + mine + "\n");
  CHECK(RecordTarget(mine) == RecordTarget(source));
  kim({"rmi", mine});
}
