// Audit lines and answers of kim-agent's calls.
#include "lib/images/agent_calls.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "lib/images/agent_convert.h"

namespace kim {

void Audit(grpc::ServerContext* context, std::string_view call, std::string_view what) {
  std::string who = "a plaintext client";
  if (auto auth = context->auth_context(); auth && auth->IsPeerAuthenticated()) {
    auto subject = auth->FindPropertyValues("x509_subject");
    if (subject.empty()) subject = auth->GetPeerIdentity();
    if (!subject.empty()) who = std::string(subject.front().data(), subject.front().size());
  }
  const std::string line = absl::StrCat("kim-agent: ", std::string(call), " ", std::string(what),
                                        " by ", who, " (", context->peer(), ")\n");
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

grpc::Status Answer(grpc::ServerContext* context, const absl::Status& status) {
  if (!status.ok()) context->AddTrailingMetadata(kAgentAnswerKey, "1");
  return ToGrpc(status);
}

grpc::Status NoBackend() {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "this kim-agent has no image backend configured");
}

}  // namespace kim
