// From BuildOptions to the SolveRequest's frontend and exporter attributes
// (lib/build/plan_solve.h PlanSolve).
#include <catch2/catch.hpp>

#include "lib/build/buildkit_client.h"

using kim::BuildOptions;
using kim::build::PlanSolve;

TEST_CASE("PlanSolve: frontend attributes", "[build][plan]") {
  BuildOptions options;
  options.build_args = {{"A", "1,2"}, {"EMPTY", ""}};
  options.labels = {{"org.example", "x"}};
  options.target = "builder";
  options.platforms = {"linux/amd64", "linux/arm64"};
  options.no_cache = true;
  options.pull = true;
  options.add_hosts = {"db:10.0.0.2", "cache:10.0.0.3"};
  options.cache_from = {"reg/app:cache", "type=registry,ref=reg/app:other", "reg/app:cache"};
  auto plan = PlanSolve(options, "Dockerfile.dev");
  REQUIRE(plan.ok());
  const auto& a = plan->frontend_attrs;
  CHECK(a.at("filename") == "Dockerfile.dev");
  CHECK(a.at("build-arg:A") == "1,2");
  CHECK(a.at("build-arg:EMPTY").empty());
  CHECK(a.at("label:org.example") == "x");
  CHECK(a.at("target") == "builder");
  CHECK(a.at("platform") == "linux/amd64,linux/arm64");
  CHECK(a.at("no-cache").empty());
  CHECK(a.at("image-resolve-mode") == "pull");
  CHECK(a.at("add-hosts") == "db:10.0.0.2,cache:10.0.0.3");
  CHECK(plan->cache_imports == std::vector<std::string>{"reg/app:cache", "reg/app:other"});
  CHECK(a.at("cache-imports") ==
        R"([{"Type":"registry","Attrs":{"ref":"reg/app:cache"}},{"Type":"registry","Attrs":{"ref":"reg/app:other"}}])");
  CHECK(plan->exports.empty());  // no tag, no output: cache only
}

TEST_CASE("PlanSolve: tags make an image exporter, --push pushes them", "[build][plan]") {
  BuildOptions options;
  options.tags = {"docker.io/library/app:1", "registry:5000/app:1"};
  options.push = true;
  auto plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  REQUIRE(plan->exports.size() == 1);
  CHECK(plan->exports[0].type == "image");
  CHECK(plan->exports[0].attrs.at("name") == "docker.io/library/app:1,registry:5000/app:1");
  CHECK(plan->exports[0].attrs.at("name-canonical").empty());
  CHECK(plan->exports[0].attrs.at("push") == "true");
  CHECK_FALSE(plan->frontend_attrs.contains("target"));
}

TEST_CASE("PlanSolve: client-side outputs", "[build][plan]") {
  BuildOptions options;
  options.outputs = {{.type = "local", .attrs = {{"dest", "/tmp/out"}}}};
  auto plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  REQUIRE(plan->exports.size() == 1);
  CHECK(plan->exports[0].type == "local");
  CHECK(plan->exports[0].directory == "/tmp/out");
  CHECK(plan->exports[0].attrs.empty());  // dest stays on the client

  options.outputs = {{.type = "tar", .attrs = {{"dest", "-"}}}};
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  REQUIRE(plan->exports.size() == 1);
  CHECK(plan->exports[0].type == "tar");
  CHECK(plan->exports[0].file == "-");

  options.outputs = {{.type = "local"}};
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));
  options.outputs = {{.type = "local", .attrs = {{"dest", "x"}}}};
  options.tags = {"docker.io/library/app:1"};
  options.push = true;
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));
  options.outputs = {{.type = "image", .attrs = {{"name", "r/a:1"}, {"push", "true"}}}};
  options.push = false;
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  REQUIRE(plan->exports.size() == 1);
  CHECK(plan->exports[0].attrs.at("name") == "docker.io/library/app:1,r/a:1");
  CHECK(plan->exports[0].attrs.at("push") == "true");
}

TEST_CASE("PlanSolve: several outputs, one exporter each, in order", "[build][plan]") {
  BuildOptions options;
  options.tags = {"docker.io/library/app:1"};
  options.outputs = {{.type = "local", .attrs = {{"dest", "/tmp/out"}}},
                     {.type = "image", .attrs = {{"name", "r/a:2"}}},
                     {.type = "docker", .attrs = {{"dest", "/tmp/app.tar"}}},
                     {.type = "tar", .attrs = {{"dest", "-"}}}};
  auto plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  REQUIRE(plan->exports.size() == 4);
  CHECK(plan->exports[0].directory == "/tmp/out");
  CHECK(plan->exports[1].type == "image");
  CHECK(plan->exports[1].attrs.at("name") == "docker.io/library/app:1,r/a:2");
  CHECK_FALSE(plan->exports[1].attrs.contains("push"));
  CHECK(plan->exports[2].type == "docker");
  CHECK(plan->exports[2].file == "/tmp/app.tar");
  CHECK(plan->exports[2].attrs.at("name") == "docker.io/library/app:1");
  CHECK(plan->exports[3].file == "-");

  options.outputs.push_back({.type = "oci", .attrs = {{"dest", "-"}}});
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));  // two on stdout
  options.outputs = {{.type = "registry", .attrs = {}}};
  options.tags.clear();
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));  // push, no name
  options.outputs = {{.type = "docker", .attrs = {{"dest", "x"}, {"tar", "false"}}}};
  CHECK(absl::IsUnimplemented(PlanSolve(options, "Dockerfile").status()));
  options.outputs = {{.type = "oci", .attrs = {{"dest", "/tmp/layout"}, {"tar", "false"}}}};
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK(plan->exports[0].layout_directory == "/tmp/layout");
  CHECK(plan->exports[0].file.empty());
  CHECK(plan->exports[0].attrs.at("tar") == "false");  // the daemon writes through the session
  options.outputs.push_back({.type = "oci", .attrs = {{"dest", "/tmp/other"}, {"tar", "false"}}});
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));  // one layout only
}

TEST_CASE("NewIdentifier: 25 characters of base 36, different each time", "[build][plan]") {
  const std::string a = kim::build::NewIdentifier();
  CHECK(a.size() == 25);
  CHECK(a.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz") == std::string::npos);
  CHECK(a != kim::build::NewIdentifier());
}

TEST_CASE("PlanSolve: --cache-to and --network", "[build][plan]") {
  BuildOptions options;
  options.cache_to = {"type=registry,ref=reg/app:cache,mode=max", "type=inline"};
  options.network = "none";
  auto plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  REQUIRE(plan->cache_exports.size() == 2);
  CHECK(plan->cache_exports[0].first == "registry");
  CHECK(plan->cache_exports[0].second.at("ref") == "reg/app:cache");
  CHECK(plan->cache_exports[0].second.at("mode") == "max");
  CHECK_FALSE(plan->cache_exports[0].second.contains("type"));
  CHECK(plan->cache_exports[1].first == "inline");
  CHECK(plan->frontend_attrs.at("force-network-mode") == "none");
  CHECK(plan->entitlements.empty());

  options.cache_to.clear();
  options.network = "host";
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK(plan->frontend_attrs.at("force-network-mode") == "host");
  CHECK(plan->entitlements == std::vector<std::string>{"network.host"});
  options.network = "default";
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK_FALSE(plan->frontend_attrs.contains("force-network-mode"));

  options.cache_to = {"type=registry"};
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));
  options.cache_to = {"type=registry,ref=r/a:c,mode=most"};
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));
  options.cache_to = {"type=s3,bucket=b"};
  CHECK(absl::IsUnimplemented(PlanSolve(options, "Dockerfile").status()));
  options.cache_to.clear();
  options.network = "bridge";
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));
}

TEST_CASE("PlanSolve: --build-context names", "[build][plan]") {
  BuildOptions options;
  options.build_contexts = {{"base", "docker-image://alpine:3"},
                            {"src", "https://github.com/example/repo.git#main"},
                            {"tmp", "/tmp"}};
  auto plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK(plan->frontend_attrs.at("context:base") == "docker-image://alpine:3");
  CHECK(plan->frontend_attrs.at("context:src") == "https://github.com/example/repo.git#main");
  CHECK(plan->frontend_attrs.at("context:tmp") == "local:tmp");
  CHECK(plan->local_contexts.at("tmp") == "/tmp");
  options.build_contexts = {{"layout", "oci-layout:///tmp/x"}};
  CHECK(absl::IsUnimplemented(PlanSolve(options, "Dockerfile").status()));
  options.build_contexts = {{"dockerfile", "/tmp"}};
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));
  options.build_contexts = {{"gone", "/nonexistent/kim"}};
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));
}

TEST_CASE("PlanSolve: --provenance", "[build][plan]") {
  BuildOptions options;
  auto plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK_FALSE(plan->frontend_attrs.contains("attest:provenance"));  // off unless asked for
  options.provenance = "true";
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK(plan->frontend_attrs.at("attest:provenance") == "mode=min");
  options.provenance = "mode=max";
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK(plan->frontend_attrs.at("attest:provenance") == "mode=max");
  options.provenance = "false";
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK_FALSE(plan->frontend_attrs.contains("attest:provenance"));
  options.provenance = "yes please";
  CHECK(absl::IsInvalidArgument(PlanSolve(options, "Dockerfile").status()));
}

TEST_CASE("PlanSolve: layer compression of image outputs", "[build][plan]") {
  kim::BuildOptions options;
  options.tags = {"docker.io/library/app:1"};
  // Staying on the node: uncompressed, base layers converted too.
  auto plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK(plan->exports[0].attrs.at("compression") == "uncompressed");
  CHECK(plan->exports[0].attrs.at("force-compression") == "true");
  // Pushed: BuildKit's gzip, untouched.
  options.push = true;
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK_FALSE(plan->exports[0].attrs.contains("compression"));
  // Asked for: given to BuildKit with its level.
  options.compression = "zstd";
  options.compression_level = 1;
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK(plan->exports[0].attrs.at("compression") == "zstd");
  CHECK(plan->exports[0].attrs.at("compression-level") == "1");
  // In -o, and wrong.
  options = {};
  options.outputs = {{.type = "image", .attrs = {{"name", "r/a:1"}, {"compression", "gzip"}}}};
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK(plan->exports[0].attrs.at("compression") == "gzip");
  options.outputs = {{.type = "image", .attrs = {{"name", "r/a:1"}, {"compression", "lz4"}}}};
  CHECK(PlanSolve(options, "Dockerfile").status().message() ==
        "invalid compression \"lz4\": use uncompressed, gzip, zstd or estargz");
  // Client-side outputs keep BuildKit's defaults.
  options.outputs = {{.type = "oci", .attrs = {{"dest", "/tmp/x.tar"}}}};
  plan = PlanSolve(options, "Dockerfile");
  REQUIRE(plan.ok());
  CHECK_FALSE(plan->exports[0].attrs.contains("compression"));
}
