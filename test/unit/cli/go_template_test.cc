// The text/template subset of --format, over JSON, printed as Go prints it.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "apps/kim/output/go_json.h"
#include "apps/kim/output/go_template.h"

using kim::cli::GoJson;
using kim::cli::GoPrint;
using kim::cli::GoTemplate;
using web::json::value;

namespace {

const value& Data() {
  static const value data = value::parse(R"({
    "Id": "sha256:abc",
    "RepoTags": ["app:1", "app:latest"],
    "Empty": [],
    "Os": "linux", "Architecture": "amd64", "Size": 1234567,
    "Config": {"Env": ["PATH=/bin", "A=b c"], "Cmd": null,
               "Labels": {"z": "1", "a": "x<y&z"},
               "ExposedPorts": {"80/tcp": {}, "443/tcp": {}}}
  })");
  return data;
}

std::string Run(const std::string& text) {
  auto parsed = GoTemplate::Parse(text);
  INFO(text << ": " << parsed.status());
  REQUIRE(parsed.ok());
  auto out = parsed->Execute(Data());
  INFO(text << ": " << out.status());
  REQUIRE(out.ok());
  return *out;
}

std::string ParseError(const std::string& text) {
  auto parsed = GoTemplate::Parse(text);
  REQUIRE_FALSE(parsed.ok());
  return std::string(parsed.status().message());
}

}  // namespace

TEST_CASE("go templates: fields print as Go prints them", "[format][gotemplate]") {
  CHECK(Run("{{.Id}}") == "sha256:abc");
  CHECK(Run("{{ .Os }}/{{.Architecture}}") == "linux/amd64");
  CHECK(Run("{{.Size}}") == "1234567");
  CHECK(Run("{{.Config.Env}}") == "[PATH=/bin A=b c]");
  CHECK(Run("{{.Config.Labels}}") == "map[a:x<y&z z:1]");
  CHECK(Run("{{.Config.ExposedPorts}}") == "map[443/tcp:{} 80/tcp:{}]");
  CHECK(Run("{{.Empty}}") == "[]");
  CHECK(Run("{{.Config.Cmd}}") == "<nil>");
  CHECK(Run("{{.Nope}}") == "<no value>");
  CHECK(Run("{{.Nope.Deeper}}") == "<no value>");
  CHECK(Run("text only") == "text only");
}

TEST_CASE("go templates: functions and literals", "[format][gotemplate]") {
  CHECK(Run("{{json .Config.Env}}") == R"(["PATH=/bin","A=b c"])");
  CHECK(Run("{{json .Config.Labels}}") == R"({"a":"x<y&z","z":"1"})");  // no HTML escaping
  CHECK(Run("{{json .Nope}}") == "null");
  CHECK(Run("{{index .RepoTags 0}}") == "app:1");
  CHECK(Run("{{index .Config.Labels \"z\"}}") == "1");
  CHECK(Run("{{join .RepoTags \",\"}}") == "app:1,app:latest");
  CHECK(Run("{{len .RepoTags}}") == "2");
  CHECK(Run("{{upper .Os}} {{lower \"ABC\"}} {{title \"hello world\"}}") == "LINUX abc Hello World");
  CHECK(Run("{{.Os | upper}}") == "LINUX");
  CHECK(Run("{{json (index .RepoTags 1)}}") == "\"app:latest\"");
  CHECK(Run("{{\"\\n\"}}") == "\n");
  CHECK(Run("{{`raw\\n`}}") == "raw\\n");
  CHECK(Run("{{printf \"%s-%d\" .Os 5}}") == "linux-5");
  CHECK(Run("{{println .Os}}") == "linux\n");
  CHECK(Run("{{split \"a:b\" \":\"}}") == "[a b]");
  CHECK(Run("{{if eq .Os \"linux\"}}yes{{end}}") == "yes");
}

TEST_CASE("go templates: range, if, with, trim markers", "[format][gotemplate]") {
  CHECK(Run("{{range .RepoTags}}{{.}}{{\"\\n\"}}{{end}}") == "app:1\napp:latest\n");
  CHECK(Run("{{range .Empty}}x{{else}}none{{end}}") == "none");
  CHECK(Run("{{range .Config.Labels}}[{{.}}]{{end}}") == "[x<y&z][1]");
  CHECK(Run("{{if .Config.Cmd}}cmd{{else}}no cmd{{end}}") == "no cmd");
  CHECK(Run("{{if .RepoTags}}tagged{{end}}") == "tagged");
  CHECK(Run("{{with .Config}}{{.Env}}{{end}}") == "[PATH=/bin A=b c]");
  CHECK(Run("a  {{- .Os -}}  b") == "alinuxb");
  CHECK(Run("{{/* a comment */}}x") == "x");
  CHECK(Run("{{range .RepoTags}}{{if eq . \"app:1\"}}{{.}}{{end}}{{end}}") == "app:1");
}

TEST_CASE("go templates: parse errors in Go's words", "[format][gotemplate]") {
  CHECK(ParseError("{{.Id") == "template: :1: unclosed action");
  CHECK(ParseError("{{nope .Id}}") == "template: :1: function \"nope\" not defined");
  CHECK(ParseError("{{range .RepoTags}}x") == "template: :1: unexpected EOF in range");
  CHECK(ParseError("{{end}}") == "template: :1: unexpected {{end}}");
  CHECK(ParseError("a\n{{\"unterminated}}").starts_with("template: :2: "));
  CHECK(ParseError("{{$x := 1}}").find("not supported") != std::string::npos);
  CHECK(ParseError("{{}}") == "template: :1: missing value for command");
}

TEST_CASE("go templates: execution errors", "[format][gotemplate]") {
  auto out_of_range = GoTemplate::Parse("{{index .RepoTags 5}}")->Execute(Data());
  REQUIRE_FALSE(out_of_range.ok());
  CHECK(out_of_range.status().message().find("index out of range: 5") != std::string::npos);
  auto field_of_string = GoTemplate::Parse("{{.Os.Foo}}")->Execute(Data());
  REQUIRE_FALSE(field_of_string.ok());
  CHECK(field_of_string.status().message().find("can't evaluate field Foo in type string") !=
        std::string::npos);
  auto bad_join = GoTemplate::Parse("{{join .Os \",\"}}")->Execute(Data());
  CHECK_FALSE(bad_join.ok());
  // A function as an operand is called without arguments; its error reads like the others.
  auto bare_len = GoTemplate::Parse("{{printf \"%s\" len}}")->Execute(Data());
  REQUIRE_FALSE(bare_len.ok());
  CHECK(absl::StartsWith(bare_len.status().message(), "template: :1: executing "));
}

TEST_CASE("go json: Marshal and MarshalIndent output", "[format][gojson]") {
  value object = value::object(true);
  object["B"] = value::string("a&b <c>");
  object["A"] = value::array();
  object["N"] = value::number(static_cast<int64_t>(42));
  object["O"] = value::object();
  CHECK(GoJson(object) == R"({"B":"a&b <c>","A":[],"N":42,"O":{}})");
  CHECK(GoJson(object, {.escape_html = true}) ==
        R"({"B":"a\u0026b \u003cc\u003e","A":[],"N":42,"O":{}})");
  value list = value::array();
  list[0] = value::string("x\ty\n");
  object["A"] = list;
  CHECK(GoJson(object, {.indent = "    "}) ==
        "{\n    \"B\": \"a&b <c>\",\n    \"A\": [\n        \"x\\ty\\n\"\n    ],\n"
        "    \"N\": 42,\n    \"O\": {}\n}");
  CHECK(GoPrint(value::parse(R"({"b":[1,true,null],"a":"s"})")) == "map[a:s b:[1 true <nil>]]");
}

TEST_CASE("go templates: integer constants too big for int64 are floats", "[format][gotemplate]") {
  // Found by test/fuzz/go_template_fuzz.cc (seed go_template-huge-integer): the literal was
  // converted to int64 although it did not fit, which is undefined (UBSan stopped it). Go keeps
  // such a constant as a float64, so it prints as the same float written with an exponent.
  CHECK(Run("{{printf \"%v\" -44444444444444444444444}}") == Run("{{printf \"%v\" -4.4444444444444444e22}}"));
  CHECK(Run("{{printf \"%d\" -9223372036854775808}}") == "-9223372036854775808");
  auto float_index = GoTemplate::Parse("{{index .RepoTags 1e30}}")->Execute(Data());
  REQUIRE_FALSE(float_index.ok());
  CHECK(float_index.status().message().find("cannot index slice/array with type float64") !=
        std::string::npos);
}
