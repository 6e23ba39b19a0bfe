// Fuzz target for what an exec credential plugin prints (ExecCredential JSON from a program the
// kubeconfig names). Beyond "does not crash": an answer is accepted only with a token or a
// certificate and key, and a refusal is InvalidArgument with a message.
#include <string>

#include "absl/status/status.h"
#include "lib/kube/exec_credential.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(kim::fuzz::AsText(data, size));
  for (const char* api : {"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"}) {
    auto credential = kim::kube::ParseExecCredential(json, api);
    if (credential.ok()) {
      Require(!credential->token.empty() ||
                  (!credential->client_cert_pem.empty() && !credential->client_key_pem.empty()),
              "a credential has a token or a certificate and key");
    } else {
      Require(absl::IsInvalidArgument(credential.status()), "errors are InvalidArgument");
      Require(!credential.status().message().empty(), "errors have a message");
    }
  }
  return 0;
}
