// Temporary directories and small files for tests. Header-only, so that every test executable
// (unit, CLI, integration) can use it without linking anything.
#ifndef KIM_TEST_SUPPORT_TEMP_DIR_H_
#define KIM_TEST_SUPPORT_TEMP_DIR_H_

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace kim::test {

// A fresh directory under /tmp (short paths: unix sockets live in some), removed with
// everything in it when the test ends.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "kim-test") {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern + " failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The directory's absolute path.
  const std::string& path() const { return path_; }
  // The path of `rel` inside it.
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }
  // Writes `content` to `rel` (parents created) with `mode`; returns its path.
  std::string Write(const std::string& rel, const std::string& content, mode_t mode = 0644) const {
    const std::filesystem::path path = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
    chmod(path.c_str(), mode);
    return path.string();
  }

 private:
  std::string path_;
};

// The bytes of `path`; "" when it does not exist or cannot be read.
inline std::string FileContent(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

}  // namespace kim::test

#endif  // KIM_TEST_SUPPORT_TEMP_DIR_H_
