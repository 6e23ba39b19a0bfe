// A program that embeds libkim as an installed package: it lists the images of a containerd
// and runs a tiny build on a buildkitd, through the public API alone. docs/embedding.md shows
// this file; keep the two the same.
#include <iostream>

#include "kim/connect.h"
#include "kim/containerd.h"

int main(int argc, char** argv) {
  if (argc != 5) return std::cerr << "usage: app CONTAINERD_SOCKET BUILDKIT_ADDR CONTEXT OUT\n", 2;
  // The node's images, straight from containerd ("/run/k3s/containerd/containerd.sock" on k3s).
  auto images = kim::ConnectContainerdImageService({.socket = argv[1]});
  if (!images.ok()) return std::cerr << images.status().message() << "\n", 1;
  auto listed = (*images)->List({});
  if (!listed.ok()) return std::cerr << listed.status().message() << "\n", 1;
  for (const kim::Image& image : *listed) {
    for (const std::string& tag : image.repo_tags) std::cout << "image " << tag << "\n";
  }

  // A build on BuildKit ("unix:///run/buildkit/buildkitd.sock"), its result in a local folder.
  auto builder = kim::ConnectBuildService({.buildkit_addr = argv[2]});
  if (!builder.ok()) return std::cerr << builder.status().message() << "\n", 1;
  kim::BuildOptions build{.context_dir = argv[3]};
  build.outputs.push_back({.type = "local", .attrs = {{"dest", argv[4]}}});
  auto built = (*builder)->Build(build, [](const kim::BuildEvent& event) {
    if (event.kind == kim::BuildEvent::Kind::kVertex && event.completed) {
      std::cout << "step " << event.name << "\n";
    }
  });
  if (!built.ok()) return std::cerr << built.status().message() << "\n", 1;
  std::cout << "built\n";
}
