// The fsutil-compatible walk of a build context (lib/build/context_walker.h): order, Go modes,
// links, and the include/exclude/followpaths filter.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "lib/build/context_walker.h"

namespace fs = std::filesystem;
using kim::build::WalkContext;
using kim::build::WalkFilter;

namespace {

class TempTree {
 public:
  TempTree() {
    std::string pattern = (fs::temp_directory_path() / "kim-walk-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    root_ = pattern;
  }
  ~TempTree() { fs::remove_all(root_); }
  void File(const std::string& rel, const std::string& content = "x", mode_t mode = 0644) {
    fs::create_directories((fs::path(root_) / rel).parent_path());
    std::ofstream(root_ + "/" + rel) << content;
    chmod((root_ + "/" + rel).c_str(), mode);
  }
  void Dir(const std::string& rel, mode_t mode = 0755) {
    fs::create_directories(root_ + "/" + rel);
    chmod((root_ + "/" + rel).c_str(), mode);
  }
  void Symlink(const std::string& target, const std::string& rel) {
    REQUIRE(symlink(target.c_str(), (root_ + "/" + rel).c_str()) == 0);
  }
  void Hardlink(const std::string& existing, const std::string& rel) {
    REQUIRE(link((root_ + "/" + existing).c_str(), (root_ + "/" + rel).c_str()) == 0);
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

std::vector<fsutil::types::Stat> Walk(const std::string& root, const WalkFilter& filter = {}) {
  std::vector<fsutil::types::Stat> out;
  const absl::Status status = WalkContext(root, filter, [&](fsutil::types::Stat& stat) {
    out.push_back(stat);
    return absl::OkStatus();
  });
  INFO(status.ToString());
  REQUIRE(status.ok());
  return out;
}

std::vector<std::string> Paths(const std::vector<fsutil::types::Stat>& stats) {
  std::vector<std::string> out;
  for (const auto& s : stats) out.push_back(s.path());
  return out;
}

}  // namespace

TEST_CASE("WalkContext: depth-first, siblings bytewise, like fsutil", "[build][walk]") {
  TempTree tree;
  tree.File("a/x");
  tree.File("a-b/y");
  tree.File("B");
  tree.File("a/sub/z");
  tree.Dir("empty");
  tree.File("\xc3\xa9t\xc3\xa9.txt");
  CHECK(Paths(Walk(tree.root())) ==
        std::vector<std::string>{"B", "a", "a/sub", "a/sub/z", "a/x", "a-b", "a-b/y", "empty",
                                 "\xc3\xa9t\xc3\xa9.txt"});
}

TEST_CASE("WalkContext: Go FileMode bits, sizes, links, uid/gid 0", "[build][walk]") {
  TempTree tree;
  tree.File("exec", "#!/bin/sh\n", 0755);
  tree.File("setuid", "s", 04750);
  tree.Dir("private", 0750);
  tree.Symlink("exec", "link");
  tree.Hardlink("exec", "z-hard");
  const auto stats = Walk(tree.root());
  REQUIRE(stats.size() == 5);
  CHECK(stats[0].path() == "exec");
  CHECK(stats[0].mode() == 0755);
  CHECK(stats[0].size() == 10);
  CHECK(stats[0].uid() == 0);
  CHECK(stats[0].gid() == 0);
  CHECK(stats[0].linkname().empty());
  CHECK(stats[1].path() == "link");
  CHECK(stats[1].mode() == (kim::build::kGoModeSymlink | 0777));
  CHECK(stats[1].linkname() == "exec");
  CHECK(stats[2].path() == "private");
  CHECK(stats[2].mode() == (kim::build::kGoModeDir | 0750));
  CHECK(stats[2].size() == 0);
  CHECK(stats[3].path() == "setuid");
  CHECK(stats[3].mode() == (kim::build::kGoModeSetuid | 0750));
  CHECK(stats[4].path() == "z-hard");
  CHECK(stats[4].linkname() == "exec");  // a hardlink names the first path of its inode
  CHECK(stats[4].size() == 0);
  struct stat st {};
  REQUIRE(lstat((tree.root() + "/exec").c_str(), &st) == 0);
  CHECK(stats[0].modtime() ==
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
}

TEST_CASE("WalkContext: exclude patterns with exceptions bring back parents", "[build][walk]") {
  TempTree tree;
  tree.File("keep.txt");
  tree.File("drop.log");
  tree.File("logs/a.log");
  tree.File("logs/important.log");
  tree.File("node_modules/x/index.js");
  tree.File("src/main.c");
  const WalkFilter filter{.exclude_patterns = {"*.log", "logs", "!logs/important.log",
                                               "node_modules"}};
  CHECK(Paths(Walk(tree.root(), filter)) ==
        std::vector<std::string>{"keep.txt", "logs", "logs/important.log", "src", "src/main.c"});
}

TEST_CASE("WalkContext: an excluded directory is not entered", "[build][walk]") {
  TempTree tree;
  tree.File("ok");
  tree.Dir("secret/locked", 0);  // unreadable, but never opened because it is excluded
  const auto paths = Paths(Walk(tree.root(), {.exclude_patterns = {"secret"}}));
  CHECK(paths == std::vector<std::string>{"ok"});
  chmod((tree.root() + "/secret/locked").c_str(), 0755);
}

TEST_CASE("WalkContext: include patterns and followpaths (symlinked Dockerfile)", "[build][walk]") {
  TempTree tree;
  tree.File("docker/Dockerfile.real", "FROM scratch\n");
  tree.Symlink("docker/Dockerfile.real", "Dockerfile");
  tree.File("other");
  const WalkFilter filter{.follow_paths = {"Dockerfile", "Dockerfile.dockerignore"}};
  CHECK(Paths(Walk(tree.root(), filter)) ==
        std::vector<std::string>{"Dockerfile", "docker", "docker/Dockerfile.real"});
  CHECK(Paths(Walk(tree.root(), {.include_patterns = {"docker/*"}})) ==
        std::vector<std::string>{"docker", "docker/Dockerfile.real"});
}

TEST_CASE("WalkContext: a bad pattern is InvalidArgument", "[build][walk]") {
  TempTree tree;
  tree.File("x");
  const absl::Status status = WalkContext(tree.root(), {.exclude_patterns = {"[x"}},
                                          [](fsutil::types::Stat&) { return absl::OkStatus(); });
  CHECK(absl::IsInvalidArgument(status));
}
