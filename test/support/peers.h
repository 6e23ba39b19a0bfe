// The real peers an integration test runs against, as scripts/peers exported them.
#ifndef KIM_TEST_SUPPORT_PEERS_H_
#define KIM_TEST_SUPPORT_PEERS_H_

#include <string>

namespace kim::test {

// The value of a KIM_TEST_* / KIM_PEERS_* variable: from the environment (after
// `eval "$(scripts/peers up)"`), else from the export lines in the file $KIM_PEERS_ENV (ctest's
// peer fixtures write it). Fails the test when neither has it: a missing peer is a failure,
// never a skip.
std::string PeerEnv(const std::string& name);

// A free TCP port on 127.0.0.1 that nobody listens on (for "nothing is there" tests and for
// servers a test starts itself).
int FreeLoopbackPort();

// Reads a whole file; fails the test when it cannot.
std::string ReadTextFile(const std::string& path);

}  // namespace kim::test

#endif  // KIM_TEST_SUPPORT_PEERS_H_
