// ApplyAllOrNothing (lib/core/reversible_steps.h): applied in order, undone in reverse on failure.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lib/core/reversible_steps.h"

namespace {

// A step that records what it did in `log`, failing (apply or undo) when told to.
kim::ReversibleStep Step(std::vector<std::string>& log, const std::string& name,
                         bool apply_fails = false, bool undo_fails = false) {
  return kim::ReversibleStep{
      .apply = [&log, name, apply_fails]() -> absl::Status {
        if (apply_fails) return absl::UnavailableError("cannot tag " + name);
        log.push_back("apply " + name);
        return absl::OkStatus();
      },
      .undo = [&log, name, undo_fails]() -> absl::Status {
        if (undo_fails) return absl::UnavailableError("cannot untag " + name);
        log.push_back("undo " + name);
        return absl::OkStatus();
      }};
}

}  // namespace

TEST_CASE("all or nothing: every step applied in order", "[reversible_steps]") {
  std::vector<std::string> log;
  REQUIRE(kim::ApplyAllOrNothing({Step(log, "a"), Step(log, "b"), Step(log, "c")}).ok());
  CHECK(log == std::vector<std::string>{"apply a", "apply b", "apply c"});
}

TEST_CASE("all or nothing: a failure undoes the applied steps last first", "[reversible_steps]") {
  std::vector<std::string> log;
  const absl::Status status =
      kim::ApplyAllOrNothing({Step(log, "a"), Step(log, "b"), Step(log, "c", true), Step(log, "d")});
  CHECK(absl::IsUnavailable(status));
  CHECK(status.message() == "cannot tag c");
  CHECK(log == std::vector<std::string>{"apply a", "apply b", "undo b", "undo a"});
}

TEST_CASE("all or nothing: a failed undo is named, the others still run", "[reversible_steps]") {
  std::vector<std::string> log;
  const absl::Status status =
      kim::ApplyAllOrNothing({Step(log, "a"), Step(log, "b", false, true), Step(log, "c", true)});
  CHECK(status.message() ==
        "cannot tag c; and undoing an earlier change failed: cannot untag b");
  CHECK(log == std::vector<std::string>{"apply a", "apply b", "undo a"});
}
