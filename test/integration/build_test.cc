// `kim build` against a real buildkitd v0.17.3 (containerd worker, namespace k8s.io): the CLI end
// to end over unix and mTLS TCP, the session attachables, outputs, push, errors, cancellation,
// and a differential test against buildctl on the same daemon.
// peers: buildkitd containerd registry
// lock: buildkitd-cache
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kim/build_service.h"
#include "kim/digest.h"
#include "lib/build/attachables.h"
#include "lib/build/buildkit_client.h"
#include "lib/build/ssh_keyring.h"
#include "moby/sshforward/v1/ssh.grpc.pb.h"
#include "test/support/peers.h"
#include "test/support/run_process.h"
#include "test/support/session_harness.h"
#include "test/support/temp_dir.h"

namespace fs = std::filesystem;
using kim::test::PeerEnv;
using kim::test::ProcessOutput;
using kim::test::Run;
using kim::test::TempDir;
using kim::test::FileContent;

namespace {

// A unique name per run so that tests never see each other's images.
std::string Unique(const std::string& stem) {
  static const std::string suffix = std::to_string(getpid());
  return stem + "-" + suffix;
}

// `kim build` over the unix socket (`tls` = over TCP with mutual TLS instead).
std::vector<std::string> KimBuild(bool tls = false) {
  if (!tls) return {KIM_BINARY, "build", "--buildkit-addr", PeerEnv("KIM_TEST_BUILDKIT_SOCKET")};
  const std::string dir = PeerEnv("KIM_TEST_BUILDKIT_TLS_DIR");
  return {KIM_BINARY,    "build",         "--buildkit-addr", PeerEnv("KIM_TEST_BUILDKIT_ADDR"),
          "--tlscacert", dir + "/ca.pem", "--tlscert",       dir + "/cert.pem",
          "--tlskey",    dir + "/key.pem"};
}

ProcessOutput RunKimBuild(std::vector<std::string> args, bool tls = false,
                          const std::string& input = "",
                          const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv = KimBuild(tls);
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOutput out = Run(argv, input, env);
  INFO("stdout: " << out.out);
  INFO("stderr: " << out.err);
  return out;
}

std::string KimImages() {
  ProcessOutput out = Run({KIM_BINARY, "--containerd-socket", PeerEnv("KIM_TEST_CONTAINERD_SOCKET"),
                           "images", "--no-trunc"});
  INFO(out.err);
  REQUIRE(out.exit_code == 0);
  return out.out;
}

// Runs `kim build ARGS` expecting a failure (exit 1) whose message contains `message`.
void CheckRefused(const std::vector<std::string>& args, const std::string& message) {
  ProcessOutput out = RunKimBuild(args);
  INFO("stderr: " << out.err);
  CHECK(out.exit_code == 1);
  CHECK(absl::StrContains(out.err, message));
}

std::string Busybox() { return PeerEnv("KIM_TEST_REGISTRY") + "/busybox:1"; }

// How many processes on this machine have `text` in their command line (the build step's
// container processes are the node's own, seen through /proc).
int ProcessesWith(const std::string& text) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream file(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (cmdline.find(text) != std::string::npos && std::to_string(getpid()) != name) ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("build: FROM scratch + COPY over mTLS lands in containerd under its tag",
          "[build][buildkitd]") {
  TempDir ctx;
  ctx.Write("Dockerfile", "FROM scratch\nCOPY . /ctx/\n");
  ctx.Write("hello.txt", "hello\n");
  ctx.Write("sub/x", "x\n");
  const std::string name = Unique("kim-scratch");
  ProcessOutput out =
      RunKimBuild({"-q", "-t", name + ":1", "--iidfile", ctx / "iid", "--metadata-file",
                   ctx / "metadata.json", ctx.path()}, /*tls=*/true);
  REQUIRE(out.exit_code == 0);
  const std::string id(absl::StripAsciiWhitespace(out.out));
  CHECK(id.starts_with("sha256:"));
  CHECK(id.size() == 71);
  CHECK(FileContent(ctx / "iid") == id);
  const std::string metadata = FileContent(ctx / "metadata.json");
  INFO(metadata);
  CHECK(absl::StrContains(metadata, "\"containerimage.config.digest\":\"" + id + "\""));
  CHECK(absl::StrContains(metadata, "\"containerimage.descriptor\":{"));  // decoded, not base64
  CHECK(absl::StrContains(metadata, "\"image.name\":\"docker.io/library/" + name + ":1\""));
  CHECK(out.err.empty());  // -q: nothing but the ID
  const std::string images = KimImages();
  INFO(images);
  bool found = false;
  for (absl::string_view line : absl::StrSplit(images, '\n')) {
    if (absl::StrContains(line, name) && absl::StrContains(line, id)) found = true;
  }
  CHECK(found);
}

TEST_CASE("build: FROM busybox with RUN, build args, labels and a target stage",
          "[build][buildkitd]") {
  TempDir ctx;
  ctx.Write("Dockerfile",
            "FROM " + Busybox() + " AS first\n"
            "ARG GREETING=unset\n"
            "ARG FROM_ENV=unset\n"
            "RUN echo \"$GREETING/$FROM_ENV\" > /greeting && echo built-first\n"
            "FROM first AS second\n"
            "RUN echo second > /second\n");
  const std::string out_dir = ctx / "out";
  ProcessOutput out = RunKimBuild(
      {"--progress", "plain", "--no-cache", "--build-arg", "GREETING=hi,there", "--build-arg", "FROM_ENV",
       "--label", "org.kim.test=yes", "--target", "first", "-o", "type=local,dest=" + out_dir,
       ctx.path()},
      false, "", {{"FROM_ENV", "env-value"}});
  REQUIRE(out.exit_code == 0);
  CHECK(FileContent(out_dir + "/greeting") == "hi,there/env-value\n");  // no comma splitting
  CHECK_FALSE(fs::exists(out_dir + "/second"));                       // --target stopped early
  CHECK(fs::exists(out_dir + "/bin/sh"));
  // Plain progress: buildx-style numbered steps with the RUN's output.
  CHECK(absl::StrContains(out.err, "RUN echo \"hi,there/env-value\" > /greeting"));
  CHECK(absl::StrContains(out.err, "built-first"));
  CHECK(absl::StrContains(out.err, "DONE"));

  // The label ends up in the image config (exported as an OCI tarball to read it).
  const std::string tar = ctx / "image.tar";
  out = RunKimBuild({"--progress", "quiet", "--label", "org.kim.test=yes", "--target", "first",
                     "-o", "type=oci,dest=" + tar, ctx.path()});
  REQUIRE(out.exit_code == 0);
  ProcessOutput grep = Run({"/bin/sh", "-c",
                            "tar -xOf '" + tar + "' --wildcards 'blobs/sha256/*' 2>/dev/null | "
                            "grep -a -c '\"org.kim.test\":\"yes\"'"});
  CHECK(grep.out != "0\n");
}

TEST_CASE("build: RUN --mount=type=secret from a file and from the environment",
          "[build][buildkitd]") {
  TempDir ctx;
  ctx.Write("Dockerfile",
            "FROM " + Busybox() + "\n"
            "RUN --mount=type=secret,id=token cat /run/secrets/token > /from-file\n"
            "RUN --mount=type=secret,id=envsecret,env=VALUE echo \"$VALUE\" > /from-env\n");
  const std::string secret = ctx.Write("secret.txt", "s3cr3t");
  const std::string out_dir = ctx / "out";
  ProcessOutput out = RunKimBuild({"--progress", "plain", "--secret", "id=token,src=" + secret,
                                   "--secret", "id=envsecret,env=KIM_SECRET", "-o",
                                   "type=local,dest=" + out_dir, ctx.path()},
                                  false, "", {{"KIM_SECRET", "from-environment"}});
  REQUIRE(out.exit_code == 0);
  CHECK(FileContent(out_dir + "/from-file") == "s3cr3t");
  CHECK(FileContent(out_dir + "/from-env") == "from-environment\n");
  CHECK_FALSE(absl::StrContains(out.err, "s3cr3t"));
}

TEST_CASE("build: - reads a context archive or a Dockerfile from stdin", "[build][buildkitd]") {
  TempDir ctx, work;
  ctx.Write("hello.txt", "hello\n");
  ctx.Write("Dockerfile", "FROM scratch\nCOPY hello.txt /\n");
  ctx.Write("sub/Alt", "FROM scratch\nCOPY . /all/\n");
  // A plain tar: the Dockerfile is read from inside it.
  ProcessOutput tar = Run({"/bin/tar", "-C", ctx.path(), "-cf", "-", "."});
  REQUIRE(tar.exit_code == 0);
  ProcessOutput out = RunKimBuild({"--progress", "quiet", "-o", "type=local,dest=" + work / "plain", "-"},
                                  false, tar.out);
  REQUIRE(out.exit_code == 0);
  CHECK(FileContent(work / "plain/hello.txt") == "hello\n");
  CHECK_FALSE(fs::exists(work / "plain/Dockerfile"));
  // gzip-compressed, with -f naming a Dockerfile inside the archive.
  ProcessOutput gz = Run({"/bin/sh", "-c", "tar -C '" + ctx.path() + "' -czf - ."});
  REQUIRE(gz.exit_code == 0);
  out = RunKimBuild({"--progress", "quiet", "-f", "sub/Alt", "-o", "type=local,dest=" + work / "gz", "-"},
                    false, gz.out);
  REQUIRE(out.exit_code == 0);
  CHECK(FileContent(work / "gz/all/hello.txt") == "hello\n");
  CHECK(FileContent(work / "gz/all/sub/Alt") == "FROM scratch\nCOPY . /all/\n");
  // Not an archive: a Dockerfile with an empty context.
  out = RunKimBuild({"--progress", "quiet", "-o", "type=local,dest=" + work / "df", "-"}, false,
                    "FROM scratch\nCOPY . /x/\n");
  REQUIRE(out.exit_code == 0);
  CHECK(fs::is_directory(work / "df/x"));
  CHECK(fs::is_empty(work / "df/x"));
  // Both from stdin is refused before anything is read.
  out = RunKimBuild({"-f", "-", "-"}, false, "FROM scratch\n");
  CHECK(out.exit_code == 1);
  CHECK(absl::StrContains(out.err, "can't use stdin for both build context and dockerfile"));
}

TEST_CASE("build: several -o outputs in one build, parents created", "[build][buildkitd]") {
  TempDir ctx, work;
  ctx.Write("hello.txt", "hello\n");
  ctx.Write("Dockerfile", "FROM scratch\nCOPY hello.txt /\n");
  const std::string name = "kim-test/multi-output";
  ProcessOutput out = RunKimBuild({"--progress", "plain", "-t", name + ":1", "-o",
                                   "type=local,dest=" + work / "new/local", "-o",
                                   "type=tar,dest=" + work / "new/deeper/fs.tar", "-o", "type=image",
                                   ctx.path()});
  REQUIRE(out.exit_code == 0);
  CHECK(FileContent(work / "new/local/hello.txt") == "hello\n");
  ProcessOutput list = Run({"/bin/tar", "-tf", work / "new/deeper/fs.tar"});
  CHECK(absl::StrContains(list.out, "hello.txt"));
  const std::string images = KimImages();
  INFO(images);
  CHECK(absl::StrContains(images, name));
}

TEST_CASE("build: -o type=oci,tar=false writes an OCI layout matching the tarball", "[build][buildkitd]") {
  TempDir ctx, work;
  ctx.Write("hello.txt", "hello\n");
  ctx.Write("Dockerfile", "FROM " + Busybox() + "\nCOPY hello.txt /\n");
  const std::string layout = work / "layout";
  ProcessOutput out = RunKimBuild({"--progress", "plain", "-t", "kim-test/layout:1", "-o",
                                   "type=oci,dest=" + layout + ",tar=false", "-o",
                                   "type=oci,dest=" + work / "image.tar", ctx.path()});
  REQUIRE(out.exit_code == 0);
  REQUIRE(Run({"/bin/mkdir", work / "untarred"}).exit_code == 0);
  REQUIRE(Run({"/bin/tar", "-xf", work / "image.tar", "-C", work / "untarred"}).exit_code == 0);
  // Every blob of the tarball is in the layout, byte for byte, and every layout blob is named by
  // its own digest.
  int blobs = 0;
  for (const auto& entry : fs::directory_iterator(work / "untarred/blobs/sha256")) {
    const std::string name = entry.path().filename().string();
    CHECK(FileContent(layout + "/blobs/sha256/" + name) == FileContent(entry.path().string()));
    ++blobs;
  }
  CHECK(blobs >= 3);  // manifest, config, layers
  for (const auto& entry : fs::directory_iterator(layout + "/blobs/sha256")) {
    CHECK(kim::DigestOf(FileContent(entry.path().string())).Hex() == entry.path().filename().string());
  }
  const std::string index = FileContent(layout + "/index.json");
  CHECK(absl::StrContains(index, "\"io.containerd.image.name\":\"docker.io/kim-test/layout:1\""));
  CHECK(absl::StrContains(index, "\"org.opencontainers.image.ref.name\":\"1\""));
  CHECK(FileContent(layout + "/oci-layout") == R"({"imageLayoutVersion":"1.0.0"})");
  // The tarball's index names the same manifest.
  const std::string tar_index = FileContent(work / "untarred/index.json");
  const size_t at = index.find("sha256:");
  REQUIRE(at != std::string::npos);
  CHECK(absl::StrContains(tar_index, index.substr(at, 71)));

  // Into the same layout again under another name: existing blobs are skipped, both names stay.
  out = RunKimBuild({"--progress", "quiet", "-t", "kim-test/layout:2", "-o",
                     "type=oci,dest=" + layout + ",tar=false", ctx.path()});
  REQUIRE(out.exit_code == 0);
  const std::string both = FileContent(layout + "/index.json");
  CHECK(absl::StrContains(both, "docker.io/kim-test/layout:1"));
  CHECK(absl::StrContains(both, "docker.io/kim-test/layout:2"));
}

TEST_CASE("build: --network none leaves RUN only loopback", "[build][buildkitd]") {
  TempDir ctx;
  ctx.Write("Dockerfile", "FROM " + Busybox() +
                              "\nRUN echo \"interfaces: $(ls /sys/class/net | tr '\\n' ' ')\"\n");
  ProcessOutput out = RunKimBuild({"--progress", "plain", "--no-cache", "--network", "none", ctx.path()});
  REQUIRE(out.exit_code == 0);
  CHECK(absl::StrContains(out.err, "interfaces: lo \n"));
  out = RunKimBuild({"--progress", "plain", "--no-cache", ctx.path()});  // the host's, here
  REQUIRE(out.exit_code == 0);
  CHECK(absl::StrContains(out.err, "interfaces: "));
  CHECK_FALSE(absl::StrContains(out.err, "interfaces: lo \n"));
  CheckRefused({"--network", "host", ctx.path()}, "--allow-insecure-entitlement network.host");
  CheckRefused({"--network", "bridge", ctx.path()}, "invalid --network \"bridge\"");
}

TEST_CASE("build: --cache-to a registry and inline", "[build][buildkitd]") {
  TempDir ctx, work;
  ctx.Write("Dockerfile", "FROM " + Busybox() + "\nRUN echo cached-step > /step\n");
  const std::string cache_ref = PeerEnv("KIM_TEST_REGISTRY") + "/" + Unique("kim-test/cache") + ":cache";
  ProcessOutput out = RunKimBuild({"--progress", "plain", "--cache-to",
                                   "type=registry,ref=" + cache_ref + ",mode=max", ctx.path()});
  REQUIRE(out.exit_code == 0);
  CHECK(absl::StrContains(out.err, "writing cache manifest"));
  // The cache is an index in the registry.
  const size_t slash = cache_ref.find('/'), colon = cache_ref.rfind(':');
  ProcessOutput manifest = Run({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                                "Accept: application/vnd.oci.image.index.v1+json",
                                "http://" + cache_ref.substr(0, slash) + "/v2/" +
                                    cache_ref.substr(slash + 1, colon - slash - 1) + "/manifests/cache"});
  CHECK(manifest.out == "200");
  // Inline: the cache metadata travels in the image config.
  out = RunKimBuild({"--progress", "quiet", "--cache-to", "type=inline", "-o",
                     "type=oci,dest=" + work / "layout" + ",tar=false", ctx.path()});
  REQUIRE(out.exit_code == 0);
  bool found = false;
  for (const auto& entry : fs::directory_iterator(work / "layout/blobs/sha256")) {
    found = found || absl::StrContains(FileContent(entry.path().string()), "moby.buildkit.cache.v0");
  }
  CHECK(found);
  CheckRefused({"--cache-to", "type=local,dest=" + work / "cache", ctx.path()},
               "--cache-to type \"local\" is not supported");
}

TEST_CASE("build: --build-context adds a local directory and an image by name", "[build][buildkitd]") {
  TempDir ctx, extra, work;
  extra.Write("e.txt", "from-extra\n");
  extra.Write(".dockerignore", "ignored.txt\n");
  extra.Write("ignored.txt", "no\n");
  ctx.Write("Dockerfile", "FROM base\nCOPY --from=extra / /extra/\nRUN cat /extra/e.txt\n");
  ProcessOutput out = RunKimBuild({"--progress", "plain", "--no-cache", "--build-context",
                                   "extra=" + extra.path(), "--build-context",
                                   "base=docker-image://" + Busybox(), "-o",
                                   "type=local,dest=" + work / "out", ctx.path()});
  REQUIRE(out.exit_code == 0);
  CHECK(FileContent(work / "out/extra/e.txt") == "from-extra\n");
  CHECK_FALSE(fs::exists(work / "out/extra/ignored.txt"));  // its own .dockerignore applies
  CHECK(fs::exists(work / "out/bin/busybox"));                 // FROM the named image
  CheckRefused({"--build-context", "extra=" + ctx / "missing", ctx.path()}, "is not a directory");
  CheckRefused({"--build-context", "context=" + extra.path(), ctx.path()}, "reserved");
  CheckRefused({"--build-context", "noequals", ctx.path()}, "format is NAME=VALUE");
}

TEST_CASE("build: --provenance attaches an attestation manifest", "[build][buildkitd]") {
  TempDir ctx, work;
  ctx.Write("Dockerfile", "FROM " + Busybox() + "\nRUN echo attested > /a\n");
  ProcessOutput out = RunKimBuild({"--progress", "plain", "--provenance", "mode=max", "-o",
                                   "type=oci,dest=" + work / "layout" + ",tar=false", ctx.path()});
  REQUIRE(out.exit_code == 0);
  // The image is now an index: the image's manifest and an attestation manifest for it.
  const std::string index = FileContent(work / "layout/index.json");
  INFO(index);
  CHECK(absl::StrContains(index, "application/vnd.oci.image.index.v1+json\",\"size\""));
  bool attestation = false, provenance = false;
  for (const auto& entry : fs::directory_iterator(work / "layout/blobs/sha256")) {
    const std::string blob = FileContent(entry.path().string());
    attestation = attestation || (absl::StrContains(blob, "\"vnd.docker.reference.type\"") &&
                                  absl::StrContains(blob, "\"attestation-manifest\""));
    provenance = provenance || absl::StrContains(blob, "https://slsa.dev/provenance/");
  }
  CHECK(attestation);
  CHECK(provenance);
}

TEST_CASE("build: -o type=tar, -f - from stdin and -f outside the context", "[build][buildkitd]") {
  TempDir ctx, elsewhere;
  ctx.Write("a.txt", "a\n");
  ctx.Write("dir/b.txt", "b\n", 0600);
  const std::string tar = ctx / "../" + fs::path(ctx.path()).filename().string() + ".tar";
  ProcessOutput out = RunKimBuild({"--progress", "quiet", "-f", "-", "-o", "type=tar,dest=" + tar,
                                   ctx.path()},
                                  false, "FROM scratch\nCOPY . /c/\n");
  REQUIRE(out.exit_code == 0);
  ProcessOutput list = Run({"/bin/tar", "--numeric-owner", "-tvf", tar});
  fs::remove(tar);
  CHECK(absl::StrContains(list.out, "c/a.txt"));
  CHECK(absl::StrContains(list.out, "-rw------- 0/0"));
  CHECK(absl::StrContains(list.out, "c/dir/b.txt"));

  const std::string dockerfile = elsewhere.Write("Build.file", "FROM scratch\nCOPY a.txt /\n");
  const std::string out_dir = elsewhere / "out";
  out = RunKimBuild({"--progress", "quiet", "-f", dockerfile, "-o", "type=local,dest=" + out_dir,
                     ctx.path()});
  REQUIRE(out.exit_code == 0);
  CHECK(FileContent(out_dir + "/a.txt") == "a\n");

  // <Dockerfile>.dockerignore next to a Dockerfile outside the context wins over the context's.
  elsewhere.Write("All.file", "FROM scratch\nCOPY . /\n");
  elsewhere.Write("All.file.dockerignore", "dir\n");
  ctx.Write(".dockerignore", "a.txt\n");
  const std::string all_dir = elsewhere / "all";
  out = RunKimBuild({"--progress", "quiet", "-f", elsewhere / "All.file", "-o",
                     "type=local,dest=" + all_dir, ctx.path()});
  REQUIRE(out.exit_code == 0);
  CHECK(fs::exists(all_dir + "/a.txt"));
  CHECK_FALSE(fs::exists(all_dir + "/dir"));
}

TEST_CASE("build: --push to the local registry", "[build][buildkitd][registry]") {
  TempDir ctx;
  ctx.Write("Dockerfile", "FROM scratch\nCOPY . /\n");
  ctx.Write("pushed.txt", "pushed\n");
  const std::string repo = Unique("kim-pushed");
  const std::string ref = PeerEnv("KIM_TEST_REGISTRY") + "/" + repo + ":1";
  ProcessOutput out = RunKimBuild({"--progress", "plain", "--push", "-t", ref, ctx.path()});
  REQUIRE(out.exit_code == 0);
  CHECK(absl::StrContains(out.err, "pushing"));
  ProcessOutput tags = Run({"/usr/bin/curl", "-sf",
                            "http://" + PeerEnv("KIM_TEST_REGISTRY") + "/v2/" + repo + "/tags/list"});
  INFO(tags.err);
  CHECK(absl::StrContains(tags.out, "\"1\""));
}

TEST_CASE("build: a build over 15 s keeps its session (health checks answered)",
          "[build][buildkitd][slow]") {
  TempDir ctx;
  ctx.Write("Dockerfile", "FROM " + Busybox() + "\nRUN sleep 17 && echo slept > /slept\n");
  auto service = kim::build::NewBuildKitService({.address = PeerEnv("KIM_TEST_BUILDKIT_SOCKET")});
  REQUIRE(service.ok());
  kim::BuildOptions options;
  options.context_dir = ctx.path();
  options.no_cache = true;
  // The export to a local directory needs the session at the very end.
  options.outputs = {{.type = "local", .attrs = {{"dest", ctx / "out"}}}};
  int vertices = 0;
  const auto start = std::chrono::steady_clock::now();
  auto result = (*service)->Build(options, [&](const kim::BuildEvent& event) {
    if (event.kind == kim::BuildEvent::Kind::kVertex) ++vertices;
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  CHECK(seconds > 15);
  CHECK(vertices > 0);
  CHECK(FileContent(ctx / "out/slept") == "slept\n");
}

TEST_CASE("build: Ctrl-C cancels the build on the daemon and exits 130", "[build][buildkitd]") {
  TempDir ctx;
  // The step's shell carries a marker in its command line, to find it among the node's processes.
  const std::string marker = absl::StrCat("kim-cancel-marker-", getpid(), "-", rand());
  ctx.Write("Dockerfile", "FROM " + Busybox() + "\nRUN echo started-sleeping && sleep 60 && echo " +
                              marker + "\n");
  std::vector<std::string> argv = KimBuild();
  for (const char* arg : {"--progress", "plain", "--no-cache"}) argv.emplace_back(arg);
  argv.push_back(ctx.path());
  kim::test::Daemon kim(argv);
  REQUIRE_FALSE(kim.WaitForLine("started-sleeping", 30).empty());
  // (The step's header echoes its command too; wait for the process itself.)
  int running = ProcessesWith(marker);
  for (int i = 0; i < 100 && running == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    running = ProcessesWith(marker);
  }
  REQUIRE(running > 0);  // the step runs in buildkitd's container now
  const auto start = std::chrono::steady_clock::now();
  const int code = kim.Stop(SIGINT, 10);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(kim.err());
  CHECK(code == 130);
  CHECK(seconds < 5);
  CHECK(absl::StrContains(kim.err(), "cancel"));
  // buildkitd really stopped the step: its processes are gone, not only the CLI.
  int left = ProcessesWith(marker);
  for (int i = 0; i < 100 && left > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = ProcessesWith(marker);
  }
  CHECK(left == 0);
}

TEST_CASE("build: clear errors for a missing Dockerfile, a failing step and bad flags",
          "[build][buildkitd]") {
  TempDir ctx;
  ProcessOutput out = RunKimBuild({ctx.path()});
  CHECK(out.exit_code == 1);
  CHECK(absl::StrContains(out.err, "cannot read Dockerfile"));

  ctx.Write("Dockerfile", "FROM scratch\nCOPY nope /\n");
  out = RunKimBuild({"--progress", "plain", ctx.path()});
  CHECK(out.exit_code == 1);
  CHECK(absl::StrContains(out.err, "failed to solve"));
  CHECK(absl::StrContains(out.err, "nope"));

  out = RunKimBuild({"--progress", "bogus", ctx.path()});
  CHECK(out.exit_code != 0);
  CHECK(absl::StrContains(out.err, "bogus"));
  out = RunKimBuild({"--secret", "id=x,src=/does/not/exist", "-f", ctx / "Dockerfile", ctx.path()});
  CHECK(out.exit_code != 0);

  out = Run({KIM_BINARY, "build", "--buildkit-addr", "unix:///nonexistent/buildkitd.sock",
             ctx.path()});
  CHECK(out.exit_code == 1);
  CHECK(absl::StrContains(out.err, "cannot reach buildkitd"));
}

TEST_CASE("build: same filesystem as buildctl for a tricky context (differential)",
          "[build][buildkitd][buildctl]") {
  TempDir ctx;
  const std::string c = ctx / "ctx";
  ctx.Write("ctx/Dockerfile", "FROM scratch\nCOPY . /ctx/\n");
  ctx.Write("ctx/.dockerignore",
            "# tricky rules\n*.log\n!keep.log\n**/tmp\n/root-only.txt\ndir/**/*.bak\n"
            "\xe6\x97\xa5\xe6\x9c\xac/ignored-\xc3\xa9*\nbuild\n!build/keep\n");
  ctx.Write("ctx/a/x", "1\n");
  ctx.Write("ctx/a-b/y", "2\n");
  ctx.Write("ctx/x.log", "log\n");
  ctx.Write("ctx/keep.log", "keep\n");
  ctx.Write("ctx/sub/deeper/tmp/t", "t\n");
  ctx.Write("ctx/dir/a/b/f.bak", "bak\n");
  ctx.Write("ctx/dir/a/b/f.txt", "ok\n");
  ctx.Write("ctx/root-only.txt", "r\n");
  ctx.Write("ctx/nested/root-only.txt", "r2\n");
  ctx.Write("ctx/\xe6\x97\xa5\xe6\x9c\xac/\xc3\xa9 t.txt", "u\n");
  ctx.Write("ctx/\xe6\x97\xa5\xe6\x9c\xac/ignored-\xc3\xa9.txt", "i\n");
  ctx.Write("ctx/build/out.o", "o\n");
  ctx.Write("ctx/build/keep/k", "k\n");
  ctx.Write("ctx/setuid", "s\n", 04755);
  ctx.Write("ctx/private", "p\n", 0600);
  ctx.Write("ctx/ro", "ro\n", 0444);
  ctx.Write("ctx/exec.sh", "#!/bin/sh\n", 0755);
  std::string big(300000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  ctx.Write("ctx/big.bin", big);
  fs::create_directories(c + "/empty");
  fs::create_directories(c + "/locked");
  chmod((c + "/locked").c_str(), 0750);
  REQUIRE(symlink("a/x", (c + "/rel-link").c_str()) == 0);
  REQUIRE(symlink("/etc/passwd", (c + "/abs-link").c_str()) == 0);
  REQUIRE(symlink("nope", (c + "/dangling").c_str()) == 0);
  REQUIRE(link((c + "/a/x").c_str(), (c + "/hard").c_str()) == 0);

  ProcessOutput out = RunKimBuild({"--progress", "quiet", "--no-cache", "-o",
                                   "type=tar,dest=" + ctx / "kim.tar", c});
  REQUIRE(out.exit_code == 0);
  ProcessOutput bctl = Run({PeerEnv("KIM_TEST_BUILDCTL"), "--addr",
                            PeerEnv("KIM_TEST_BUILDKIT_SOCKET"), "build", "--progress", "plain",
                            "--frontend", "dockerfile.v0", "--local", "context=" + c, "--local",
                            "dockerfile=" + c, "--output", "type=tar,dest=" + ctx / "buildctl.tar"});
  INFO(bctl.err);
  REQUIRE(bctl.exit_code == 0);
  // buildctl right after kim finds the COPY cached: the file metadata kim sent matched fsutil's.
  CHECK(absl::StrContains(bctl.err, "CACHED"));
  ProcessOutput compare = Run({"/usr/bin/python3", KIM_SOURCE_DIR "/test/data/build/compare_tars.py",
                               ctx / "kim.tar", ctx / "buildctl.tar", "ctx"});
  INFO(compare.out << compare.err);
  CHECK(compare.exit_code == 0);
  ProcessOutput list = Run({"/bin/tar", "-tf", ctx / "kim.tar"});
  CHECK(absl::StrContains(list.out, "ctx/keep.log"));
  CHECK_FALSE(absl::StrContains(list.out, "ctx/x.log"));
  CHECK_FALSE(absl::StrContains(list.out, "ctx/sub/deeper/tmp"));
  CHECK_FALSE(absl::StrContains(list.out, "ctx/root-only.txt\n"));
  CHECK(absl::StrContains(list.out, "ctx/nested/root-only.txt"));
  CHECK_FALSE(absl::StrContains(list.out, "f.bak"));
  CHECK_FALSE(absl::StrContains(list.out, "ignored-"));
  CHECK_FALSE(absl::StrContains(list.out, "build/out.o"));
  CHECK(absl::StrContains(list.out, "ctx/build/keep/k"));
  CHECK(absl::StrContains(list.out, "ctx/empty/"));
}

namespace {

// An ssh-agent of our own for the length of a test.
class SshAgent {
 public:
  explicit SshAgent(const std::string& dir) : socket_(dir + "/agent.sock") {
    ProcessOutput out = Run({"/usr/bin/ssh-agent", "-a", socket_, "-s"});
    INFO(out.err);
    REQUIRE(out.exit_code == 0);
    const size_t pos = out.out.find("SSH_AGENT_PID=");
    REQUIRE(pos != std::string::npos);
    pid_ = std::atoi(out.out.c_str() + pos + 14);
    REQUIRE(pid_ > 0);
  }
  ~SshAgent() { kill(pid_, SIGTERM); }
  const std::string& socket() const { return socket_; }

 private:
  std::string socket_;
  int pid_ = 0;
};

}  // namespace

TEST_CASE("build: --ssh forwards an agent socket, read-only", "[build][buildkitd][ssh]") {
  TempDir ctx;
  SshAgent agent(ctx.path());
  ctx.Write("Dockerfile", "FROM " + Busybox() +
                              "\nRUN --mount=type=ssh test -S \"$SSH_AUTH_SOCK\" && echo agent-ok\n");
  ProcessOutput out = RunKimBuild({"--progress", "plain", "--no-cache", "--ssh",
                                   "default=" + agent.socket(), ctx.path()});
  REQUIRE(out.exit_code == 0);
  CHECK(absl::StrContains(out.err, "agent-ok"));
  out = RunKimBuild({"--ssh", "default=" + ctx / "Dockerfile", ctx.path()});  // not a key
  CHECK(out.exit_code == 1);
  CHECK(absl::StrContains(out.err, "--ssh default: "));
  CHECK(absl::StrContains(out.err, ctx / "Dockerfile"));

  // The forwarding itself, as the daemon drives it: list keys goes through, adding is refused.
  kim::test::SessionHarness session(
      kim::build::SshMethods({{.id = "default", .socket = agent.socket(), .keys = nullptr}}));
  REQUIRE(session.channel);
  auto stub = moby::sshforward::v1::SSH::NewStub(session.channel);
  grpc::ClientContext check_context;
  moby::sshforward::v1::CheckAgentResponse checked;
  CHECK(stub->CheckAgent(&check_context, {}, &checked).ok());
  grpc::ClientContext context;
  auto stream = stub->ForwardAgent(&context);
  moby::sshforward::v1::BytesMessage message, reply;
  message.set_data(std::string("\0\0\0\1\x0b", 5));  // REQUEST_IDENTITIES
  REQUIRE(stream->Write(message));
  REQUIRE(stream->Read(&reply));
  REQUIRE(reply.data().size() >= 5);
  CHECK(reply.data()[4] == 12);  // IDENTITIES_ANSWER
  message.set_data(std::string("\0\0\0\1\x13", 5));  // REMOVE_ALL_IDENTITIES
  REQUIRE(stream->Write(message));
  REQUIRE(stream->Read(&reply));
  CHECK(reply.data() == std::string("\0\0\0\1\5", 5));  // FAILURE
  stream->WritesDone();
  CHECK(stream->Finish().ok());
}

TEST_CASE("build: --ssh serves key files as an agent of its own", "[build][buildkitd][ssh]") {
  TempDir ctx;
  ProcessOutput keygen = Run({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kim-test",
                              "-f", ctx / "id_ed25519"});
  REQUIRE(keygen.exit_code == 0);
  ctx.Write("Dockerfile", "FROM " + Busybox() +
                              "\nRUN --mount=type=ssh,id=deploy test -S \"$SSH_AUTH_SOCK\" && echo keys-ok\n");
  ProcessOutput out = RunKimBuild({"--progress", "plain", "--no-cache", "--ssh",
                                   "deploy=" + ctx / "id_ed25519", ctx.path()},
                                  false, "", {{"SSH_AUTH_SOCK", ""}});
  REQUIRE(out.exit_code == 0);
  CHECK(absl::StrContains(out.err, "keys-ok"));

  // What the build's ssh client sees: the key listed under its comment, and signatures.
  auto keys = kim::build::SshKeyring::Load({ctx / "id_ed25519"});
  REQUIRE(keys.ok());
  kim::test::SessionHarness session(kim::build::SshMethods(
      {{.id = "deploy", .socket = "", .keys = std::make_shared<const kim::build::SshKeyring>(*std::move(keys))}}));
  REQUIRE(session.channel);
  auto stub = moby::sshforward::v1::SSH::NewStub(session.channel);
  grpc::ClientContext context;
  context.AddMetadata("buildkit.ssh.id", "deploy");
  auto stream = stub->ForwardAgent(&context);
  moby::sshforward::v1::BytesMessage message, reply;
  message.set_data(std::string("\0\0\0\1\x0b", 5));  // REQUEST_IDENTITIES
  REQUIRE(stream->Write(message));
  REQUIRE(stream->Read(&reply));
  REQUIRE(reply.data().size() > 9);
  CHECK(reply.data()[4] == 12);  // IDENTITIES_ANSWER
  CHECK(reply.data().substr(5, 4) == std::string("\0\0\0\1", 4));  // one key
  CHECK(absl::StrContains(reply.data(), "ssh-ed25519"));
  CHECK(absl::StrContains(reply.data(), "kim-test"));
  stream->WritesDone();
  CHECK(stream->Finish().ok());

  // An unknown id fails the build with the daemon's message, not a hang.
  out = RunKimBuild({"--progress", "plain", "--no-cache", "--ssh", "other=" + ctx / "id_ed25519",
                     ctx.path()},
                    false, "", {{"SSH_AUTH_SOCK", ""}});
  CHECK(out.exit_code == 1);
  CHECK(absl::StrContains(out.err, "deploy"));
}
