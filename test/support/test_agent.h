// A kim-agent started for one integration test, serving the peers' containerd over mutual TLS
// with a fresh test PKI, and the kim CLI run against it.
#ifndef KIM_TEST_SUPPORT_TEST_AGENT_H_
#define KIM_TEST_SUPPORT_TEST_AGENT_H_

#include <memory>
#include <string>
#include <vector>

#include "kim/image_service.h"
#include "test/support/run_process.h"

namespace kim::test {

// Starts on a free port when constructed (failing the test if it cannot), stops when destroyed.
struct TestAgent {
  // Serves the containerd at `containerd_socket` (the peers' containerd when empty), with a
  // fresh test PKI, or with the one in `shared_pki` (another agent's `pki`, which it keeps; so
  // that agents trust each other's certificates).
  explicit TestAgent(const std::string& containerd_socket = "",
                     const std::string& shared_pki = "");
  ~TestAgent();

  // Runs kim against this agent as the client `client` ("client", "other-client" or "" for no
  // certificate), with `input` on stdin and an empty Docker config.
  ProcessOutput Kim(std::vector<std::string> words, const std::string& client = "client",
                    const std::string& input = "") const;

  // The same as Kim, started in the background (stdout dropped, stderr collected): for a
  // command to be interrupted while it runs.
  std::unique_ptr<Daemon> KimInBackground(const std::vector<std::string>& words) const;

  // A client of this agent over its mutual TLS (the PKI's client certificate), as a program
  // embedding libkim gets one; fails the test when it cannot be made.
  std::unique_ptr<ImageService> Images() const;

  std::string pki;      // the test PKI's folder
  bool owns_pki = true; // made it (and removes it)
  std::unique_ptr<Daemon> daemon;
  std::string address;  // 127.0.0.1:PORT
};

}  // namespace kim::test

#endif  // KIM_TEST_SUPPORT_TEST_AGENT_H_
