// kim-port-forward NAMESPACE POD PORT: forwards PORT of the pod through the API server of
// $KUBECONFIG with libkim's tunnel (lib/kube/port_forward.h), prints "127.0.0.1:LOCAL" and
// serves until its standard input closes. For the end-to-end tests and the tunnel benchmark,
// which compare it with `kubectl port-forward` and send raw bytes through it.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "kim/log.h"
#include "lib/kube/client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/port_forward.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: kim-port-forward NAMESPACE POD PORT\n";
    return 2;
  }
  if (std::getenv("KIM_DEBUG") != nullptr) kim::SetLogVerbosity(2);
  auto config = kim::kube::LoadRestConfig(kim::kube::LoadOptionsFromEnvironment("", ""));
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return 1;
  }
  auto client = kim::kube::Client::New(*config);
  if (!client.ok()) {
    std::cerr << client.status().message() << "\n";
    return 1;
  }
  auto forward = kim::kube::PortForward::Start(
      std::shared_ptr<kim::kube::Client>(std::move(*client)),
      {.namespace_name = argv[1], .pod = argv[2], .port = std::atoi(argv[3])});
  if (!forward.ok()) {
    std::cerr << forward.status().message() << "\n";
    return 1;
  }
  std::cout << (*forward)->local_address() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}
