// Fuzz target for the SSH agent requests a build sends through `--ssh id=key-file`: the input is
// the request stream (length-prefixed messages, split as ForwardAgent does) answered by a keyring
// of the ed25519, ECDSA and RSA keys of the ssh_key corpus. Beyond "does not crash": every answer
// is an identities answer, a signature or SSH_AGENT_FAILURE, and listing identities lists them all.
#include <string>

#include "lib/build/ssh_keyring.h"
#include "lib/build/ssh_wire.h"
#include "test/fuzz/fuzz_support.h"

using kim::fuzz::Require;

namespace {

const kim::build::SshKeyring& Keyring() {
  static const kim::build::SshKeyring* keyring = [] {
    auto loaded = kim::build::SshKeyring::Load({KIM_FUZZ_CORPUS_DIR "/ssh_key-ed25519",
                                                KIM_FUZZ_CORPUS_DIR "/ssh_key-ecdsa256",
                                                KIM_FUZZ_CORPUS_DIR "/ssh_key-rsa1024-pem"});
    Require(loaded.ok(), "the corpus keys load");
    return new kim::build::SshKeyring(*std::move(loaded));
  }();
  return *keyring;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const kim::build::SshKeyring& keyring = Keyring();
  std::string pending(kim::fuzz::AsText(data, size));
  std::string body;
  for (int i = 0; i < 64; ++i) {
    auto taken = kim::build::TakeAgentMessage(&pending, &body);
    if (!taken.ok() || !*taken) break;
    const std::string answer = keyring.Handle(body);
    Require(!answer.empty(), "every request is answered");
    const uint8_t type = static_cast<uint8_t>(answer[0]);
    Require(type == kim::build::kSshAgentFailure || type == kim::build::kSshAgentIdentitiesAnswer ||
                type == kim::build::kSshAgentSignResponse,
            "answers are identities, signatures or failure");
    if (body.size() == 1 && static_cast<uint8_t>(body[0]) == kim::build::kSshAgentcRequestIdentities) {
      kim::build::WireReader in(answer);
      uint8_t answer_type = 0;
      uint32_t count = 0;
      Require(in.Byte(&answer_type) && in.U32(&count) && count == 3, "all three keys are listed");
    }
  }
  return 0;
}
