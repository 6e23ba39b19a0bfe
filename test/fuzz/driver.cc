// A stand-alone driver for kim's libFuzzer targets, so that every target also runs in ctest
// without clang: it feeds the target each seed from the corpus, then a fixed number of
// deterministic mutations of them (byte flips, insertions, deletions, splices). Coverage-guided
// fuzzing proper uses the same targets with clang's -fsanitize=fuzzer.
//
// Usage: <target> [--runs N] [--seed S] SEED_FILE...
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

const std::string* g_current = nullptr;

// On a crash, print the input that caused it (C-escaped) so that it can be added to the corpus.
void PrintCrashInput(int signal) {
  if (g_current != nullptr) {
    std::fprintf(stderr, "fuzz: signal %d on input (%zu bytes): \"", signal, g_current->size());
    for (unsigned char c : *g_current) {
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        std::fputc(c, stderr);
      } else {
        std::fprintf(stderr, "\\x%02x", c);
      }
    }
    std::fprintf(stderr, "\"\n");
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void Run(const std::string& input) {
  g_current = &input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

// One random edit of `input`, drawing bytes mostly from the characters references use.
std::string Mutate(std::string input, const std::vector<std::string>& seeds, std::mt19937& rng) {
  static const std::string kAlphabet =
      "abcdefz0123456789:/@._-ABCZ[]%+ \t\n\x7f\xff\xc3\xa9sha256localhostdocker.io";
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  switch (pick(5)) {
    case 0:  // replace a byte
      if (!input.empty()) input[pick(input.size())] = kAlphabet[pick(kAlphabet.size())];
      break;
    case 1:  // insert a byte
      input.insert(input.begin() + pick(input.size() + 1), kAlphabet[pick(kAlphabet.size())]);
      break;
    case 2:  // delete a range
      if (!input.empty()) {
        const size_t at = pick(input.size());
        input.erase(at, 1 + pick(std::min<size_t>(8, input.size() - at)));
      }
      break;
    case 3: {  // splice with another seed
      const std::string& other = seeds[pick(seeds.size())];
      input = input.substr(0, pick(input.size() + 1)) + other.substr(pick(other.size() + 1));
      break;
    }
    default:  // repeat a piece (long inputs)
      if (!input.empty()) {
        const std::string piece = input.substr(pick(input.size()), 1 + pick(16));
        for (size_t i = 0, n = pick(40); i < n; ++i) input += piece;
      }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 20000;
  unsigned seed = 1;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::atol(argv[++i]);
    } else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = static_cast<unsigned>(std::atol(argv[++i]));
    } else {
      std::ifstream file(argv[i], std::ios::binary);
      if (!file) {
        std::cerr << "cannot read seed file " << argv[i] << "\n";
        return 2;
      }
      std::ostringstream content;
      content << file.rdbuf();
      seeds.push_back(content.str());
    }
  }
  if (seeds.empty()) seeds.push_back("");
  for (int signal : {SIGABRT, SIGSEGV, SIGFPE, SIGILL, SIGBUS}) std::signal(signal, PrintCrashInput);
  for (const std::string& input : seeds) Run(input);
  std::mt19937 rng(seed);
  std::string current = seeds.front();
  for (long i = 0; i < runs; ++i) {
    current = (i % 16 == 0) ? seeds[i / 16 % seeds.size()] : Mutate(current, seeds, rng);
    Run(current);
  }
  std::cout << "fuzz: " << seeds.size() << " seeds and " << runs << " mutations: no failure\n";
  return 0;
}
