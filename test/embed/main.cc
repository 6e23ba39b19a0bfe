// A program that embeds libkim as an installed package: it lists the images of a containerd
// and runs a tiny build on a buildkitd, through the public API alone (include/kim/).
//   kim-embed CONTAINERD_SOCKET BUILDKIT_ADDR CONTEXT_DIR OUTPUT_DIR
#include <iostream>

#include "kim/connect.h"
#include "kim/containerd.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: kim-embed CONTAINERD_SOCKET BUILDKIT_ADDR CONTEXT_DIR OUTPUT_DIR\n";
    return 2;
  }
  // The node's images, straight from containerd.
  auto images = kim::ConnectContainerdImageService({.socket = argv[1]});
  if (!images.ok()) {
    std::cerr << images.status().message() << "\n";
    return 1;
  }
  auto listed = (*images)->List({});
  if (!listed.ok()) {
    std::cerr << listed.status().message() << "\n";
    return 1;
  }
  for (const kim::Image& image : *listed) {
    for (const std::string& tag : image.repo_tags) std::cout << "image " << tag << "\n";
  }

  // A build on BuildKit, its result written to a local folder.
  auto builder = kim::ConnectBuildService({.buildkit_addr = argv[2]});
  if (!builder.ok()) {
    std::cerr << builder.status().message() << "\n";
    return 1;
  }
  kim::BuildOptions build{.context_dir = argv[3]};
  build.outputs.push_back({.type = "local", .attrs = {{"dest", argv[4]}}});
  auto built = (*builder)->Build(build, [](const kim::BuildEvent& event) {
    if (event.kind == kim::BuildEvent::Kind::kVertex && event.completed) {
      std::cout << "step " << event.name << "\n";
    }
  });
  if (!built.ok()) {
    std::cerr << built.status().message() << "\n";
    return 1;
  }
  std::cout << "built\n";
  return 0;
}
