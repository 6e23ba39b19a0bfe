// A program with one deliberate bug per sanitizer, chosen by its argument, so that ctest can
// prove the sanitizer tree really stops on each kind of finding (and a UBSan finding does not
// just print and go on). Built only with KIM_SANITIZE.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// Keeps the compiler from seeing through the values (so the bugs happen at run time).
template <typename T>
T Opaque(T value) {
  asm volatile("" : "+r"(value));
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  if (what == "heap-overflow") {
    char* buffer = static_cast<char*>(std::malloc(Opaque<size_t>(8)));
    std::memset(buffer, 'x', Opaque<size_t>(9));
    std::printf("survived %c\n", buffer[0]);
    std::free(buffer);
  } else if (what == "signed-overflow") {
    const int big = Opaque(INT_MAX);
    std::printf("survived %d\n", big + Opaque(1));
  } else if (what == "leak") {
    void* leaked = std::malloc(Opaque<size_t>(4096));
    std::printf("allocated %p\n", Opaque(leaked));
    leaked = nullptr;
    return Opaque(0);
  } else {
    std::fprintf(stderr, "usage: canary heap-overflow|signed-overflow|leak\n");
    return 2;
  }
  return 0;
}
