// `kim image inspect` / `kim inspect`: Docker's image inspect JSON, or a --format template over
// it, for each image; missing images are reported after the others are printed.
#include <optional>
#include <ostream>

#include "absl/strings/match.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/output/go_template.h"
#include "apps/kim/output/image_inspect.h"

namespace kim::cli {
namespace {

// True for the "image \"x\": not found" an unknown image gets (not for other NotFound errors).
bool IsNoSuchImage(const absl::Status& status) {
  return absl::IsNotFound(status) && absl::StartsWith(status.message(), "image \"") &&
         absl::EndsWith(status.message(), ": not found");
}

int RunInspect(Invocation& invocation) {
  std::string format = invocation.flags.String("format");
  std::optional<GoTemplate> tmpl;
  if (!format.empty()) {
    if (format == "json") format = "{{json .}}";
    auto parsed = GoTemplate::Parse(format);
    if (!parsed.ok()) {
      return UsageError(*invocation.command,
                        "template parsing error: " + std::string(parsed.status().message()),
                        *invocation.err);
    }
    tmpl = *std::move(parsed);
  }
  auto service = ConnectImageService(invocation.flags);
  if (!service.ok()) return ReportError(invocation, service.status());

  std::vector<web::json::value> objects;
  std::vector<std::string> errors;
  for (const std::string& image : invocation.args) {
    auto details = (*service)->Inspect(image);
    if (absl::IsUnavailable(details.status()) || absl::IsDeadlineExceeded(details.status())) {
      return ReportError(invocation, details.status());  // the others would fail the same way
    }
    if (!details.ok()) {
      errors.push_back(IsNoSuchImage(details.status()) ? "No such image: " + image
                                                        : std::string(details.status().message()));
      continue;
    }
    auto object = InspectObject(*details);
    if (!object.ok()) {
      errors.push_back(std::string(object.status().message()));
      continue;
    }
    objects.push_back(*std::move(object));
  }
  if (!tmpl) {
    *invocation.out << InspectArray(objects);
  } else {
    for (const web::json::value& object : objects) {
      auto line = tmpl->Execute(object);
      if (!line.ok()) return ReportError(invocation, line.status());
      *invocation.out << *line << "\n";
    }
  }
  invocation.out->flush();
  for (const std::string& error : errors) *invocation.err << "Error: " << error << "\n";
  return errors.empty() ? kExitOk : kExitFailure;
}

}  // namespace

std::unique_ptr<Command> NewInspectCommand() {
  auto inspect = std::make_unique<Command>();
  inspect->name = "inspect";
  inspect->use = "[OPTIONS] IMAGE [IMAGE...]";
  inspect->short_help = "Display detailed information on one or more images";
  inspect->args = {.min = 1};
  inspect->flags = {
      {.name = "format", .shorthand = 'f', .type = FlagType::kString,
       .usage = "Format output using a custom template: 'json', or a Go template such as "
                "'{{.Id}}' or '{{json .Config}}'"},
  };
  inspect->run = RunInspect;
  return inspect;
}

}  // namespace kim::cli
