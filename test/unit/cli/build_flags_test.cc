// Parsers of `kim build` flag values.
#include <catch2/catch.hpp>

#include "apps/kim/commands/build_flags.h"

using namespace kim::cli;

namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name, std::string* value) {
    auto it = vars.find(name);
    if (it == vars.end()) return false;
    *value = it->second;
    return true;
  };
}

}  // namespace

TEST_CASE("build flag --build-arg: K=V, K from the environment, no comma splitting", "[build][flags]") {
  auto args = ParseBuildArgs({"A=1,2", "B=", "HOME_DIR", "UNSET", "C=x=y"},
                             FakeEnv({{"HOME_DIR", "/root"}}));
  REQUIRE(args.ok());
  CHECK(args->at("A") == "1,2");
  CHECK(args->at("B").empty());
  CHECK(args->at("HOME_DIR") == "/root");
  CHECK_FALSE(args->contains("UNSET"));
  CHECK(args->at("C") == "x=y");
  CHECK(args->size() == 4);
  CHECK_FALSE(ParseBuildArgs({"=v"}, FakeEnv({})).ok());
  CHECK(ParseBuildArgs({"=v"}, FakeEnv({})).status().message().find("KEY=VALUE") !=
        std::string::npos);
}

TEST_CASE("build flag --label", "[build][flags]") {
  auto labels = ParseLabels({"a=1", "b", "c=x,y"});
  REQUIRE(labels.ok());
  CHECK(*labels == std::map<std::string, std::string>{{"a", "1"}, {"b", ""}, {"c", "x,y"}});
  CHECK_FALSE(ParseLabels({"=x"}).ok());
}

TEST_CASE("build flag --secret forms", "[build][flags]") {
  auto file = ParseSecret("id=npm,src=/run/npmrc");
  REQUIRE(file.ok());
  CHECK(file->id == "npm");
  CHECK(file->file == "/run/npmrc");
  CHECK(file->env.empty());
  auto source = ParseSecret("id=x,source=/a/b");
  REQUIRE(source.ok());
  CHECK(source->file == "/a/b");
  auto env = ParseSecret("id=tok,env=GITHUB_TOKEN");
  REQUIRE(env.ok());
  CHECK(env->env == "GITHUB_TOKEN");
  auto typed = ParseSecret("id=tok,type=env,src=TOKEN");
  REQUIRE(typed.ok());
  CHECK(typed->env == "TOKEN");
  CHECK(typed->file.empty());
  auto implicit_id = ParseSecret("src=/etc/secret.txt");
  REQUIRE(implicit_id.ok());
  CHECK(implicit_id->id == "secret.txt");
  for (const char* bad : {"id=x", "", "id=x,src=a,env=B", "id=x,bogus=1", "id=x,type=ssh,src=a"}) {
    INFO(bad);
    CHECK_FALSE(ParseSecret(bad).ok());
  }
}

TEST_CASE("build flag --ssh forms", "[build][flags]") {
  auto plain = ParseSsh("default");
  REQUIRE(plain.ok());
  CHECK(plain->id == "default");
  CHECK(plain->paths.empty());
  auto keys = ParseSsh("gh=/k1,/k2");
  REQUIRE(keys.ok());
  CHECK(keys->id == "gh");
  CHECK(keys->paths == std::vector<std::string>{"/k1", "/k2"});
  CHECK_FALSE(ParseSsh("").ok());
  CHECK_FALSE(ParseSsh("=x").ok());
  CHECK_FALSE(ParseSsh("id=").ok());
}

TEST_CASE("build flag --output forms", "[build][flags]") {
  auto local = ParseOutput("type=local,dest=out");
  REQUIRE(local.ok());
  CHECK(local->type == "local");
  CHECK(local->attrs.at("dest") == "out");
  auto shorthand = ParseOutput("outdir");
  REQUIRE(shorthand.ok());
  CHECK(shorthand->type == "local");
  CHECK(shorthand->attrs.at("dest") == "outdir");
  auto stdout_tar = ParseOutput("-");
  REQUIRE(stdout_tar.ok());
  CHECK(stdout_tar->type == "tar");
  auto image = ParseOutput("type=image,name=r/a:1,push=true");
  REQUIRE(image.ok());
  CHECK(image->attrs.at("push") == "true");
  CHECK(image->attrs.at("name") == "r/a:1");
  for (const char* bad : {"", "type=tar", "type=weird,dest=x", "dest=x", "type=oci"}) {
    INFO(bad);
    CHECK_FALSE(ParseOutput(bad).ok());
  }
}

TEST_CASE("build flag -t values are normalised and refuse digests", "[build][flags]") {
  auto tags = ParseTags({"app", "app:1", "registry:5000/team/app:v2"});
  REQUIRE(tags.ok());
  CHECK(*tags == std::vector<std::string>{"docker.io/library/app:latest",
                                          "docker.io/library/app:1",
                                          "registry:5000/team/app:v2"});
  CHECK_FALSE(ParseTags({"App"}).ok());
  CHECK_FALSE(ParseTags({"app@sha256:" + std::string(64, 'a')}).ok());
}

TEST_CASE("build flag --platform lists are split and normalised", "[build][flags]") {
  auto platforms = ParsePlatforms({"linux/amd64,linux/arm64/v8", "linux/arm"});
  REQUIRE(platforms.ok());
  CHECK(*platforms == std::vector<std::string>{"linux/amd64", "linux/arm64", "linux/arm/v7"});
  CHECK_FALSE(ParsePlatforms({"linux/amd64,"}).ok());
  CHECK_FALSE(ParsePlatforms({"plan9/z80"}).ok());
}

TEST_CASE("build flag --progress and --add-host", "[build][flags]") {
  for (const char* mode : {"auto", "plain", "tty", "quiet", "rawjson"}) {
    CHECK(ValidateProgressMode(mode).ok());
  }
  CHECK_FALSE(ValidateProgressMode("fancy").ok());
  CHECK(*ParseAddHost("db:10.0.0.5") == "db=10.0.0.5");
  CHECK(*ParseAddHost("db=10.0.0.5") == "db=10.0.0.5");
  CHECK(*ParseAddHost("v6:::1") == "v6=::1");
  CHECK(*ParseAddHost("v6=[fe80::1]") == "v6=fe80::1");
  CHECK_FALSE(ParseAddHost("db").ok());
  CHECK_FALSE(ParseAddHost("db:notanip").ok());
  CHECK_FALSE(ParseAddHost(":1.2.3.4").ok());
}
