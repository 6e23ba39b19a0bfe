// --format templates.
#include <catch2/catch.hpp>

#include "apps/kim/output/template.h"

using kim::cli::RowTemplate;

namespace {
const std::vector<std::string> kFields = {"Repository", "Tag", "ID", "Size"};
}

TEST_CASE("table and json are recognised", "[format]") {
  for (const char* text : {"", "table"}) {
    auto parsed = RowTemplate::Parse(text, kFields);
    REQUIRE(parsed.ok());
    CHECK(parsed->is_default_table());
  }
  for (const char* text : {"json", "{{json .}}"}) {
    auto parsed = RowTemplate::Parse(text, kFields);
    REQUIRE(parsed.ok());
    CHECK(parsed->kind() == RowTemplate::Kind::kJson);
  }
}

TEST_CASE("text templates render fields", "[format]") {
  auto parsed = RowTemplate::Parse("{{.Repository}}:{{ .Tag }}", kFields);
  REQUIRE(parsed.ok());
  CHECK(parsed->kind() == RowTemplate::Kind::kText);
  CHECK(parsed->Render({{"Repository", "alpine"}, {"Tag", "3.19"}}) == "alpine:3.19");
  CHECK(parsed->used_fields() == std::vector<std::string>{"Repository", "Tag"});
  auto escaped = RowTemplate::Parse("{{.ID}}\\t{{.Size}}", kFields);
  REQUIRE(escaped.ok());
  CHECK(escaped->Render({{"ID", "abc"}, {"Size", "5MB"}}) == "abc\t5MB");
  auto table = RowTemplate::Parse("table {{.ID}}", kFields);
  REQUIRE(table.ok());
  CHECK(table->kind() == RowTemplate::Kind::kTable);
  CHECK_FALSE(table->is_default_table());
}

TEST_CASE("bad templates are refused with the reason", "[format]") {
  auto unknown = RowTemplate::Parse("{{.Nope}}", kFields);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("unknown field \".Nope\"") != std::string::npos);
  CHECK_FALSE(RowTemplate::Parse("{{.ID", kFields).ok());
  CHECK_FALSE(RowTemplate::Parse("{{ID}}", kFields).ok());
}
