// Peers of one test alone (`scripts/peers up NAMES` into a directory of their own), for fault
// tests that kill or restart a peer: the shared fixture's peers serve concurrent tests and must
// never be disturbed.
#ifndef KIM_TEST_SUPPORT_PRIVATE_PEERS_H_
#define KIM_TEST_SUPPORT_PRIVATE_PEERS_H_

#include <map>
#include <string>

namespace kim::test {

// Starts the peers when constructed (failing the test, with the script's output, when they
// cannot start) and stops them (`scripts/peers down`) when destroyed.
class PrivatePeers {
 public:
  // `names`: what `scripts/peers up` takes, e.g. "containerd" or "kube-apiserver".
  explicit PrivatePeers(const std::string& names);
  ~PrivatePeers();
  PrivatePeers(const PrivatePeers&) = delete;
  PrivatePeers& operator=(const PrivatePeers&) = delete;

  // An exported variable of this run (KIM_TEST_CONTAINERD_SOCKET, KIM_TEST_KUBECONFIG...);
  // fails the test when the run did not export it.
  std::string Env(const std::string& name) const;
  // SIGKILLs peer `name` (`scripts/peers kill`), as a crash would.
  void Kill(const std::string& name);
  // Starts peer `name` again (`scripts/peers restart`) and waits until it is ready.
  void Restart(const std::string& name);

 private:
  // Runs `scripts/peers WORDS` (up to `seconds`), failing the test when it fails.
  void Script(const std::string& words, int seconds, std::string* out = nullptr);

  std::string scratch_;  // this object's own folder: the script's output files
  std::map<std::string, std::string> env_;
};

}  // namespace kim::test

#endif  // KIM_TEST_SUPPORT_PRIVATE_PEERS_H_
