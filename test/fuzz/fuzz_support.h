// Helpers shared by kim's fuzz targets: an invariant check that aborts (so libFuzzer and the
// deterministic driver record the input) and a splitter of one input into several messages.
#ifndef KIM_TEST_FUZZ_FUZZ_SUPPORT_H_
#define KIM_TEST_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace kim::fuzz {

// Aborts with `what` on stderr when `condition` is false: a broken invariant is a finding.
inline void Require(bool condition, const char* what = "invariant") {
  if (!condition) {
    std::fprintf(stderr, "fuzz: broken invariant: %s\n", what);
    std::abort();
  }
}

// The input as a string_view.
inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits `input` into frames, each a big-endian uint16 length and then that many bytes; a last
// frame shorter than its length takes what is left. Lets one input carry several messages.
inline std::vector<std::string_view> Frames(std::string_view input) {
  std::vector<std::string_view> frames;
  while (input.size() >= 2) {
    const size_t length = (size_t{static_cast<uint8_t>(input[0])} << 8) | static_cast<uint8_t>(input[1]);
    input.remove_prefix(2);
    const size_t take = length < input.size() ? length : input.size();
    frames.push_back(input.substr(0, take));
    input.remove_prefix(take);
  }
  return frames;
}

}  // namespace kim::fuzz

#endif  // KIM_TEST_FUZZ_FUZZ_SUPPORT_H_
