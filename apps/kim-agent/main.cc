// kim-agent: the daemon on the builder node that manages its containerd's images for the kim
// CLI. Serves until SIGTERM or SIGINT, then shuts down cleanly.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>

#include <cxxopts.hpp>

#include "kim/agent_server.h"
#include "kim/containerd.h"
#include "kim/version.h"

namespace {

// Blocks SIGTERM and SIGINT in every thread (so gRPC's threads never take them) and returns the
// set for sigwait.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace

int main(int argc, char** argv) {
  // Blobs move through the agent in 1 MiB messages; glibc would map and unmap each of those
  // buffers (page faults and zeroing on every message). Kept on the heap, they are reused.
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  cxxopts::Options options("kim-agent", "Manages the images of the node's containerd for kim");
  options.add_options()
      ("listen", "Address to serve the kim agent API on (host:port)",
       cxxopts::value<std::string>()->default_value("0.0.0.0:1233"))
      ("containerd-socket", "containerd socket to manage",
       cxxopts::value<std::string>()->default_value("/run/containerd/containerd.sock"))
      ("tlscacert", "CA certificate to verify clients", cxxopts::value<std::string>())
      ("tlscert", "Server TLS certificate", cxxopts::value<std::string>())
      ("tlskey", "Server TLS key", cxxopts::value<std::string>())
      ("insecure", "Serve plaintext gRPC without mutual TLS (loopback and tests only)")
      ("v,version", "Print the version and exit")
      ("h,help", "Print this help and exit");
  kim::AgentServerOptions server_options;
  std::string containerd_socket;
  try {
    const cxxopts::ParseResult flags = options.parse(argc, argv);
    if (flags.count("help")) {
      std::cout << options.help() << std::flush;
      return 0;
    }
    if (flags.count("version")) {
      std::cout << "kim-agent version " << kim::Version() << " (" << kim::GitCommit() << ")\n";
      return 0;
    }
    if (!flags.unmatched().empty()) {
      std::cerr << "kim-agent: unexpected argument \"" << flags.unmatched().front() << "\"\n"
                << "Usage: kim-agent [OPTIONS]; see kim-agent --help\n";
      return 2;
    }
    server_options.listen_address = flags["listen"].as<std::string>();
    containerd_socket = flags["containerd-socket"].as<std::string>();
    server_options.insecure = flags.count("insecure") > 0;
    const size_t tls_flags = flags.count("tlscacert") + flags.count("tlscert") + flags.count("tlskey");
    if (tls_flags != 0 && tls_flags != 3) {
      std::cerr << "kim-agent: mutual TLS needs all of --tlscacert, --tlscert and --tlskey\n";
      return 1;
    }
    for (const auto& [flag, what, field] :
         {std::tuple{"tlscacert", "CA certificate", &server_options.tls.ca},
          std::tuple{"tlscert", "server certificate", &server_options.tls.cert},
          std::tuple{"tlskey", "server key", &server_options.tls.key}}) {
      if (!flags.count(flag)) continue;
      const std::string path = flags[flag].as<std::string>();
      std::ifstream file(path, std::ios::binary);
      std::ostringstream content;
      if (!(file && content << file.rdbuf())) {
        std::cerr << "kim-agent: cannot read " << what << " \"" << path << "\"\n";
        return 1;
      }
      *field = content.str();
    }
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "kim-agent: " << e.what() << "\nUsage: kim-agent [OPTIONS]; see kim-agent --help\n";
    return 2;
  }

  // The agent's whole job: the node containerd's images, through the same ImageService the CLI
  // uses in local mode (linked alone: the agent carries no build or Kubernetes code). Made on
  // first use, so the agent starts (and recovers) even while containerd is not up: calls then
  // answer "cannot reach containerd at ...".
  auto images = kim::ConnectContainerdImageService(
      {.socket = containerd_socket, .connect_on_first_use = true});
  if (!images.ok()) {
    std::cerr << "kim-agent: " << images.status().message() << "\n";
    return 2;
  }
  server_options.images = *std::move(images);

  sigset_t signals = BlockShutdownSignals();
  auto server = kim::AgentServer::Start(server_options);
  if (!server.ok()) {
    std::cerr << "kim-agent: " << server.status().message() << "\n";
    return 1;
  }
  std::cerr << "kim-agent " << kim::Version() << " serving on port " << (*server)->port()
            << (server_options.tls.empty() ? " (plaintext)" : " (mutual TLS)") << "\n";
  int received = 0;
  sigwait(&signals, &received);
  std::cerr << "kim-agent: received " << (received == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", shutting down\n";
  (*server)->Shutdown(absl::Seconds(5));
  (*server)->Wait();
  return 0;
}
