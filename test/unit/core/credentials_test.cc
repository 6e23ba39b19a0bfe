// Tests for kim/credentials.h: config.json parsing, Docker's lookup rules and precedence, and real
// credential-helper programs (shell scripts under test/data/credential-helpers).
#include "kim/credentials.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace kim {
namespace {

const std::string kDataDir = KIM_TEST_DATA_DIR;
const std::string kHelperDir = kDataDir + "/credential-helpers";
const std::string kHubKey = "https://index.docker.io/v1/";

// Sets (or, with nullopt, unsets) an environment variable for the scope, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Puts the fake credential helpers first on PATH.
class ScopedHelperPath {
 public:
  ScopedHelperPath()
      : env_("PATH", kHelperDir + ":" + (::getenv("PATH") ? ::getenv("PATH") : "/usr/bin:/bin")) {}

 private:
  ScopedEnv env_;
};

// A fresh directory under /tmp, removed with its contents at the end of the scope.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/kim-credentials-test-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path_ = name;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

DockerConfig MustParse(const std::string& json) {
  absl::StatusOr<DockerConfig> config = DockerConfig::Parse(json, "test-config.json");
  INFO(config.status().ToString());
  REQUIRE(config.ok());
  return *std::move(config);
}

RegistryCredentials MustGet(const DockerConfig& config, std::string_view host) {
  absl::StatusOr<RegistryCredentials> credentials = config.CredentialsFor(host);
  INFO("host " << host << ": " << credentials.status().ToString());
  REQUIRE(credentials.ok());
  return *std::move(credentials);
}

TEST_CASE("RegistryAuthKey maps Docker Hub hosts to the index URL", "[credentials]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"docker.io", kHubKey},
      {"index.docker.io", kHubKey},
      {"registry-1.docker.io", kHubKey},
      {"ghcr.io", "ghcr.io"},
      {"registry:5000", "registry:5000"},
      {"localhost:5000", "localhost:5000"},
      {"docker.io.example.com", "docker.io.example.com"},
      {"mirror.docker.io", "mirror.docker.io"},
  };
  for (const auto& [host, key] : cases) {
    INFO("host " << host);
    CHECK(RegistryAuthKey(host) == key);
  }
}

TEST_CASE("ConvertToHostname strips the scheme and path like Docker", "[credentials]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"https://registry:5000/v1/", "registry:5000"},
      {"http://registry:5000", "registry:5000"},
      {"https://index.docker.io/v1/", "index.docker.io"},
      {"registry.example.com/some/path", "registry.example.com"},
      {"registry.example.com", "registry.example.com"},
      {"", ""},
      {"https://", ""},
      {"ftp://host", "ftp:"},
  };
  for (const auto& [url, host] : cases) {
    INFO("url " << url);
    CHECK(ConvertToHostname(url) == host);
  }
}

TEST_CASE("EncodeAuth and DecodeAuth round-trip user:password", "[credentials]") {
  CHECK(EncodeAuth("user", "pass") == "dXNlcjpwYXNz");
  CHECK(EncodeAuth("hubuser", "hubpass") == "aHVidXNlcjpodWJwYXNz");

  auto decoded = DecodeAuth("dXNlcjpwYXNz");
  REQUIRE(decoded.ok());
  CHECK(decoded->first == "user");
  CHECK(decoded->second == "pass");

  // The password may contain ':'; only the first one separates.
  decoded = DecodeAuth(EncodeAuth("user", "pa:ss:word"));
  REQUIRE(decoded.ok());
  CHECK(decoded->first == "user");
  CHECK(decoded->second == "pa:ss:word");

  // An empty password is allowed, NUL padding is dropped.
  decoded = DecodeAuth(EncodeAuth("user", ""));
  REQUIRE(decoded.ok());
  CHECK(decoded->second.empty());
  decoded = DecodeAuth(EncodeAuth("user", std::string("pw\0\0", 4)));
  REQUIRE(decoded.ok());
  CHECK(decoded->second == "pw");
}

TEST_CASE("DecodeAuth rejects malformed auth values", "[credentials]") {
  const std::vector<std::string> bad = {
      "!!!not base64!!!",
      "dXNlcnBhc3M=",      // "userpass": no colon
      "OnBhc3M=",          // ":pass": empty user name
      "",                  // nothing at all
      "dXNlcjpwYXNz$",     // trailing garbage
  };
  for (const std::string& auth : bad) {
    INFO("auth '" << auth << "'");
    auto decoded = DecodeAuth(auth);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Parse rejects bad JSON and wrong types, naming the file", "[credentials]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "invalid JSON"},
      {"{\"auths\": {\"a\": {\"auth\": \"x\"}", "invalid JSON"},
      {"[]", "expected a JSON object"},
      {"\"text\"", "expected a JSON object"},
      {"{\"auths\": []}", "auths: expected an object"},
      {"{\"auths\": {\"r.io\": \"x\"}}", "auths[\"r.io\"]: expected an object"},
      {"{\"auths\": {\"r.io\": {\"auth\": 5}}}", "auths[\"r.io\"].auth: expected a string"},
      {"{\"auths\": {\"r.io\": {\"username\": true}}}",
       "auths[\"r.io\"].username: expected a string"},
      {"{\"auths\": {\"r.io\": {\"auth\": \"dXNlcnBhc3M=\"}}}",
       "auths[\"r.io\"].auth: invalid auth configuration"},
      {"{\"auths\": {\"r.io\": {\"auth\": \"%%%\"}}}", "not valid base64"},
      {"{\"credsStore\": 5}", "credsStore: expected a string"},
      {"{\"credHelpers\": {\"r.io\": 1}}", "credHelpers[\"r.io\"]: expected a string"},
      {"{\"credHelpers\": \"x\"}", "credHelpers: expected an object"},
  };
  for (const auto& [json, want] : cases) {
    INFO("json " << json);
    absl::StatusOr<DockerConfig> config = DockerConfig::Parse(json, "/home/u/.docker/config.json");
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
    std::string message(config.status().message());
    CHECK_THAT(message, Catch::StartsWith("/home/u/.docker/config.json: "));
    CHECK_THAT(message, Catch::Contains(want));
  }
}

TEST_CASE("Parse accepts empty text, nulls and unknown keys", "[credentials]") {
  for (const std::string json : {"", "  \n", "{}", "{\"auths\": null, \"credsStore\": null}",
                                 "{\"HttpHeaders\": {\"X\": \"y\"}, \"experimental\": \"on\"}"}) {
    INFO("json " << json);
    DockerConfig config = MustParse(json);
    CHECK(MustGet(config, "registry.example.com").empty());
    CHECK(config.CredentialHelperFor("registry.example.com").empty());
  }
}

TEST_CASE("CredentialsFor reads auths entries in all their forms", "[credentials]") {
  absl::StatusOr<DockerConfig> loaded =
      DockerConfig::LoadFrom(kDataDir + "/docker-config/basic/config.json");
  REQUIRE(loaded.ok());
  const DockerConfig& config = *loaded;
  CHECK(config.path() == kDataDir + "/docker-config/basic/config.json");

  struct Case {
    std::string host;
    std::string username, password, identity_token, registry_token, server_address;
  };
  const std::vector<Case> cases = {
      {"docker.io", "hubuser", "hubpass", "", "", kHubKey},
      {"index.docker.io", "hubuser", "hubpass", "", "", kHubKey},
      {"registry-1.docker.io", "hubuser", "hubpass", "", "", kHubKey},
      // A legacy key with scheme and path matches the bare host.
      {"legacy.example.com:5000", "legacy", "pw", "", "",
       "https://legacy.example.com:5000/v1/"},
      {"plain.example.com", "plainuser", "plainpass", "", "", "plain.example.com"},
      {"token.example.com", "", "", "id-token-1", "", "token.example.com"},
      {"bearer.example.com", "", "", "", "bearer-1", "bearer.example.com"},
      {"colon.example.com", "user", "pa:ss:word", "", "", "colon.example.com"},
      // Hosts without an entry, including near misses, are anonymous.
      {"unknown.example.com", "", "", "", "", "unknown.example.com"},
      {"legacy.example.com", "", "", "", "", "legacy.example.com"},
      {"PLAIN.example.com", "", "", "", "", "PLAIN.example.com"},
  };
  for (const Case& c : cases) {
    INFO("host " << c.host);
    RegistryCredentials got = MustGet(config, c.host);
    CHECK(got.username == c.username);
    CHECK(got.password == c.password);
    CHECK(got.identity_token == c.identity_token);
    CHECK(got.registry_token == c.registry_token);
    CHECK(got.server_address == c.server_address);
    CHECK(got.empty() == (c.username.empty() && c.password.empty() &&
                          c.identity_token.empty() && c.registry_token.empty()));
  }
}

TEST_CASE("The exact auths key wins over a legacy spelling", "[credentials]") {
  DockerConfig config = MustParse(R"({"auths": {
      "http://r.example.com/v2/": {"auth": ")" + EncodeAuth("old", "1") + R"("},
      "r.example.com": {"auth": ")" + EncodeAuth("new", "2") + R"("}}})");
  CHECK(MustGet(config, "r.example.com").username == "new");

  // Docker Hub entries stored under a bare Hub host are found too.
  config = MustParse(R"({"auths": {"index.docker.io": {"auth": ")" +
                     EncodeAuth("hub", "x") + R"("}}})");
  CHECK(MustGet(config, "docker.io").username == "hub");
}

TEST_CASE("LoadFrom treats a missing file as no credentials and names bad files",
          "[credentials]") {
  absl::StatusOr<DockerConfig> missing = DockerConfig::LoadFrom("/nonexistent/kim/config.json");
  REQUIRE(missing.ok());
  CHECK(missing->path() == "/nonexistent/kim/config.json");
  CHECK(MustGet(*missing, "docker.io").empty());

  const std::string bad_json = kDataDir + "/docker-config/bad-json/config.json";
  absl::StatusOr<DockerConfig> broken = DockerConfig::LoadFrom(bad_json);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(broken.status().message()), Catch::StartsWith(bad_json + ": invalid JSON"));

  const std::string bad_auth = kDataDir + "/docker-config/bad-auth/config.json";
  broken = DockerConfig::LoadFrom(bad_auth);
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(std::string(broken.status().message()),
             Catch::Contains(bad_auth) && Catch::Contains("registry.example.com"));

  // A directory where the file should be is an error, not an empty configuration.
  broken = DockerConfig::LoadFrom(kDataDir + "/docker-config");
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(std::string(broken.status().message()), Catch::Contains(kDataDir));
}

TEST_CASE("Load finds config.json through DOCKER_CONFIG, then HOME", "[credentials]") {
  {
    ScopedEnv docker_config("DOCKER_CONFIG", kDataDir + "/docker-config/basic");
    CHECK(DockerConfigDir() == kDataDir + "/docker-config/basic");
    absl::StatusOr<DockerConfig> config = DockerConfig::Load();
    REQUIRE(config.ok());
    CHECK(config->path() == kDataDir + "/docker-config/basic/config.json");
    CHECK(MustGet(*config, "docker.io").username == "hubuser");
  }
  {
    ScopedEnv docker_config("DOCKER_CONFIG", "");
    ScopedEnv home("HOME", "/home/kimtest");
    CHECK(DockerConfigDir() == "/home/kimtest/.docker");
    absl::StatusOr<DockerConfig> config = DockerConfig::Load();
    REQUIRE(config.ok());
    CHECK(config->path() == "/home/kimtest/.docker/config.json");
  }
  {
    ScopedEnv docker_config("DOCKER_CONFIG", std::nullopt);
    ScopedEnv home("HOME", "/root-ish");
    CHECK(DockerConfigDir() == "/root-ish/.docker");
  }
  {
    ScopedEnv docker_config("DOCKER_CONFIG", kDataDir + "/docker-config/bad-json");
    CHECK_FALSE(DockerConfig::Load().ok());
  }
}

TEST_CASE("credsStore helpers supply credentials, tokens and not-found", "[credentials]") {
  ScopedHelperPath path;
  DockerConfig config = MustParse(R"({"credsStore": "kimtest",
      "auths": {"registry.example.com": {"auth": ")" + EncodeAuth("file", "ignored") + R"(",
                                        "registrytoken": "from-file"}}})");
  CHECK(config.CredentialHelperFor("registry.example.com") == "kimtest");

  RegistryCredentials got = MustGet(config, "registry.example.com");
  CHECK(got.username == "alice");
  CHECK(got.password == "s3cret");
  CHECK(got.identity_token.empty());
  CHECK(got.registry_token == "from-file");
  CHECK(got.server_address == "registry.example.com");

  got = MustGet(config, "token.example.com");
  CHECK(got.username.empty());
  CHECK(got.password.empty());
  CHECK(got.identity_token == "refresh-token-1");

  // Docker Hub is asked for under the index URL.
  got = MustGet(config, "docker.io");
  CHECK(got.username == "hubuser");
  CHECK(got.password == "hubpass");
  CHECK(got.server_address == kHubKey);

  // "credentials not found in native keychain" means anonymous.
  got = MustGet(config, "missing.example.com");
  CHECK(got.empty());
}

TEST_CASE("Credential helper failures are errors naming the helper", "[credentials]") {
  ScopedHelperPath path;
  DockerConfig config = MustParse(R"({"credsStore": "kimtest"})");
  config.set_helper_timeout(absl::Milliseconds(300));

  struct Case {
    std::string host;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"broken.example.com", absl::StatusCode::kInvalidArgument,
       "docker-credential-kimtest get \"broken.example.com\": reply is not a JSON object: "
       "\"this is not json\""},
      {"fail.example.com", absl::StatusCode::kUnavailable,
       "docker-credential-kimtest get \"fail.example.com\": exit status 1: boom: keychain locked"},
      {"stderr.example.com", absl::StatusCode::kUnavailable,
       "docker-credential-kimtest get \"stderr.example.com\": exit status 4: only on stderr"},
      {"slow.example.com", absl::StatusCode::kDeadlineExceeded,
       "docker-credential-kimtest: timed out after 300ms"},
  };
  for (const Case& c : cases) {
    INFO("host " << c.host);
    absl::StatusOr<RegistryCredentials> got = config.CredentialsFor(c.host);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == c.code);
    CHECK(std::string(got.status().message()) == c.message);
  }

  DockerConfig unknown = MustParse(R"({"credsStore": "kim-no-such-helper"})");
  absl::StatusOr<RegistryCredentials> got = unknown.CredentialsFor("registry.example.com");
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(got.status().message()) ==
        "docker-credential-kim-no-such-helper: executable file not found in $PATH");
}

TEST_CASE("credHelpers take precedence over credsStore and auths", "[credentials]") {
  ScopedHelperPath path;
  DockerConfig config = MustParse(R"({
      "credsStore": "kimtest",
      "credHelpers": {"registry.example.com": "kimother", "https://index.docker.io/v1/": "kimother",
                      "only-helper.example.com": "kimother"},
      "auths": {"registry.example.com": {"auth": ")" + EncodeAuth("file", "pw") + R"("},
                "plain.example.com": {"auth": ")" + EncodeAuth("file", "pw") + R"("}}})");
  CHECK(config.CredentialHelperFor("registry.example.com") == "kimother");
  CHECK(config.CredentialHelperFor("docker.io") == "kimother");
  CHECK(config.CredentialHelperFor("token.example.com") == "kimtest");

  RegistryCredentials got = MustGet(config, "registry.example.com");
  CHECK(got.username == "bob");
  CHECK(got.password == "from-kimother");
  CHECK(MustGet(config, "docker.io").username == "bob");
  CHECK(MustGet(config, "only-helper.example.com").username == "bob");
  // Not in credHelpers: credsStore answers, even though auths has an entry.
  CHECK(MustGet(config, "token.example.com").identity_token == "refresh-token-1");
  CHECK(MustGet(config, "plain.example.com").empty());

  // With no credsStore, hosts outside credHelpers come from auths.
  DockerConfig helpers_only = MustParse(R"({
      "credHelpers": {"registry.example.com": "kimother"},
      "auths": {"registry.example.com": {"auth": ")" + EncodeAuth("file", "pw") + R"("},
                "plain.example.com": {"auth": ")" + EncodeAuth("file", "pw") + R"("}}})");
  CHECK(MustGet(helpers_only, "registry.example.com").username == "bob");
  got = MustGet(helpers_only, "plain.example.com");
  CHECK(got.username == "file");
  CHECK(got.password == "pw");
}

TEST_CASE("Store, Save and Load round-trip through the file", "[credentials]") {
  TempDir dir;
  const std::string path = dir.path() + "/nested/.docker/config.json";
  DockerConfig config = MustParse(R"({"auths": {"keep.example.com": {"auth": ")" +
                                  EncodeAuth("k", "v") + R"(", "email": "k@example.com"}},
      "HttpHeaders": {"User-Agent": "kim-test"}, "psFormat": "table {{.ID}}"})");

  RegistryCredentials alice{"alice", "pw:with:colons", "", "", ""};
  REQUIRE(config.Store("registry.example.com", alice).ok());
  RegistryCredentials hub{"hubuser", "", "refresh", "", ""};
  REQUIRE(config.Store("docker.io", hub).ok());
  // Stored credentials are visible before saving.
  CHECK(MustGet(config, "registry.example.com").password == "pw:with:colons");

  REQUIRE(config.Save(path).ok());
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir.path() + "/nested/.docker").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  const std::string text = ReadFile(path);
  CHECK_THAT(text, Catch::Contains("\"auth\": \"" + EncodeAuth("alice", "pw:with:colons") + "\""));
  CHECK_THAT(text, Catch::Contains("\"identitytoken\": \"refresh\""));
  CHECK_THAT(text, Catch::Contains("\"email\": \"k@example.com\""));
  CHECK_THAT(text, Catch::Contains("\"User-Agent\": \"kim-test\""));
  CHECK_THAT(text, Catch::Contains("\"psFormat\": \"table {{.ID}}\""));
  CHECK_THAT(text, Catch::Contains("\n\t\"auths\": {\n"));
  CHECK_THAT(text, !Catch::Contains("\"password\""));
  CHECK_THAT(text, !Catch::Contains("\"username\""));

  absl::StatusOr<DockerConfig> reloaded = DockerConfig::LoadFrom(path);
  REQUIRE(reloaded.ok());
  RegistryCredentials got = MustGet(*reloaded, "registry.example.com");
  CHECK(got.username == "alice");
  CHECK(got.password == "pw:with:colons");
  got = MustGet(*reloaded, "index.docker.io");
  CHECK(got.username == "hubuser");
  CHECK(got.identity_token == "refresh");
  CHECK(MustGet(*reloaded, "keep.example.com").username == "k");

  // Erase drops the key and legacy spellings of the same host, and saving again keeps the rest.
  DockerConfig again = MustParse(R"({"auths": {
      "registry.example.com": {"auth": ")" + EncodeAuth("a", "b") + R"("},
      "https://registry.example.com/v1/": {"auth": ")" + EncodeAuth("c", "d") + R"("},
      "other.example.com": {"auth": ")" + EncodeAuth("e", "f") + R"("}}})");
  REQUIRE(again.Erase("registry.example.com").ok());
  REQUIRE(again.Erase("never.example.com").ok());
  CHECK(MustGet(again, "registry.example.com").empty());
  CHECK(MustGet(again, "other.example.com").username == "e");
  REQUIRE(again.Save(path).ok());
  const std::string after = ReadFile(path);
  CHECK_THAT(after, !Catch::Contains("registry.example.com"));
  CHECK_THAT(after, Catch::Contains("other.example.com"));
}

TEST_CASE("Store refuses empty credentials and user names with a colon", "[credentials]") {
  DockerConfig config;
  CHECK(config.Store("r.example.com", RegistryCredentials{}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(config.Store("r.example.com", RegistryCredentials{"a:b", "pw", "", "", ""}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(config.Save("").code() == absl::StatusCode::kInvalidArgument);
  CHECK(config.Serialize() == "{\n\t\"auths\": {}\n}\n");
}

TEST_CASE("Save writes through a symlinked config file", "[credentials]") {
  TempDir dir;
  const std::string real = dir.path() + "/real-config.json";
  const std::string link = dir.path() + "/config.json";
  { std::ofstream(real) << "{}\n"; }
  REQUIRE(::symlink(real.c_str(), link.c_str()) == 0);

  DockerConfig config;
  REQUIRE(config.Store("r.example.com", RegistryCredentials{"u", "p", "", "", ""}).ok());
  REQUIRE(config.Save(link).ok());
  struct stat st;
  REQUIRE(::lstat(link.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK_THAT(ReadFile(real), Catch::Contains(EncodeAuth("u", "p")));
}

TEST_CASE("Store and Erase go through the configured helper", "[credentials]") {
  ScopedHelperPath path;
  TempDir dir;
  const std::string log = dir.path() + "/helper.log";
  ScopedEnv log_env("KIMTEST_HELPER_LOG", log);

  DockerConfig config = MustParse(R"({"credsStore": "kimtest"})");
  REQUIRE(config.Store("registry.example.com", RegistryCredentials{"u", "p", "", "", ""}).ok());
  REQUIRE(config.Store("docker.io", RegistryCredentials{"", "", "tok", "", ""}).ok());
  REQUIRE(config.Erase("registry.example.com").ok());
  // Erasing what the helper does not have is fine.
  REQUIRE(config.Erase("missing.example.com").ok());

  CHECK(ReadFile(log) ==
        "store {\"ServerURL\":\"registry.example.com\",\"Username\":\"u\",\"Secret\":\"p\"}\n"
        "store {\"ServerURL\":\"https://index.docker.io/v1/\",\"Username\":\"<token>\","
        "\"Secret\":\"tok\"}\n"
        "erase registry.example.com\n"
        "erase missing.example.com\n");
  // Secrets stay in the helper: the file only lists the registry.
  const std::string text = config.Serialize();
  CHECK_THAT(text, Catch::Contains("\"https://index.docker.io/v1/\": {}"));
  CHECK_THAT(text, !Catch::Contains("registry.example.com"));
  CHECK_THAT(text, !Catch::Contains("tok"));

  DockerConfig failing = MustParse(R"({"credsStore": "kim-no-such-helper"})");
  CHECK(failing.Store("r.example.com", RegistryCredentials{"u", "p", "", "", ""}).code() ==
        absl::StatusCode::kNotFound);
  CHECK(failing.Erase("r.example.com").code() == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kim

TEST_CASE("a password without a user name survives Serialize and Parse", "[credentials]") {
  // Found by test/fuzz/docker_config_fuzz.cc: Serialize used to write "auth" as base64(":p"),
  // which Parse (like Docker) refuses.
  auto config = kim::DockerConfig::Parse(
      R"({"auths":{"r.example:5000":{"password":"p"}}})", "in.json");
  REQUIRE(config.ok());
  auto again = kim::DockerConfig::Parse(config->Serialize(), "out.json");
  REQUIRE(again.ok());
  auto credentials = again->CredentialsFor("r.example:5000");
  REQUIRE(credentials.ok());
  CHECK(credentials->password == "p");
  CHECK(credentials->username.empty());
}

TEST_CASE("a user name with a colon survives Serialize and Parse", "[credentials]") {
  // Found by test/fuzz/docker_config_fuzz.cc (seed docker_config-colon-user): a loaded entry
  // with "username": ":u" (or "a:b") was written as "auth": base64(":u:p"), which Parse refuses
  // (so the whole file became unreadable) or reads back as another user.
  for (const std::string user : {":u", "a:b"}) {
    auto config = kim::DockerConfig::Parse(
        R"({"auths":{"r.example":{"username":")" + user + R"(","password":"p:w"}}})", "in.json");
    REQUIRE(config.ok());
    auto again = kim::DockerConfig::Parse(config->Serialize(), "out.json");
    REQUIRE(again.ok());
    auto credentials = again->CredentialsFor("r.example");
    REQUIRE(credentials.ok());
    CHECK(credentials->username == user);
    CHECK(credentials->password == "p:w");
  }
}

TEST_CASE("numbers beyond a double and NUL-padded passwords survive Serialize and Parse",
          "[credentials]") {
  // Found by test/fuzz/docker_config_fuzz.cc (seed docker_config-huge-number): an unknown field
  // holding 3e333 read as infinity and was written back as `inf`, which is not JSON.
  const std::string text = std::string(R"({"auths":{"r.example":{"email":3e333,"username":"u",)") +
                           R"("password":"\u0000p\u0000"}},"other":[-1e400]})";
  auto config = kim::DockerConfig::Parse(text, "in.json");
  REQUIRE(config.ok());
  const std::string written = config->Serialize();
  CHECK_THAT(written, Catch::Contains("1.7976931348623157e308"));
  CHECK_THAT(written, !Catch::Contains("inf"));
  auto again = kim::DockerConfig::Parse(written, "out.json");
  INFO(written);
  REQUIRE(again.ok());
  auto credentials = again->CredentialsFor("r.example");
  REQUIRE(credentials.ok());
  CHECK(credentials->username == "u");
  CHECK(credentials->password == std::string("\0p\0", 3));
}

TEST_CASE("duplicate keys in config.json: the last wins, as in the Docker CLI", "[credentials]") {
  // Found by test/fuzz/docker_config_fuzz.cc (seed docker_config-duplicate-keys): cpprestsdk
  // answers the first of duplicate keys, and Serialize wrote every duplicate back, so the file
  // read back could name another credential helper (or none that parses).
  auto config = kim::DockerConfig::Parse(
      R"({"credHelpers":{"r.example":{"bad":1}},"auths":{"r.example":{"username":"old"}},)"
      R"("credHelpers":{"r.example":"one","r.example":"two"},)"
      R"("auths":{"r.example":{"username":"u","password":"p"}}})",
      "in.json");
  INFO(config.status());
  REQUIRE(config.ok());
  CHECK(config->CredentialHelperFor("r.example") == "two");
  const std::string written = config->Serialize();
  INFO(written);
  auto again = kim::DockerConfig::Parse(written, "out.json");
  REQUIRE(again.ok());
  CHECK(again->CredentialHelperFor("r.example") == "two");
  CHECK(written.find("credHelpers") == written.rfind("credHelpers"));  // written once
  CHECK(written.find("\"one\"") == std::string::npos);
}
