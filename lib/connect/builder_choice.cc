// Rendezvous hashing of build contexts onto builder nodes.
#include "lib/connect/builder_choice.h"

#include <openssl/sha.h>

#include <cstring>

namespace kim {
namespace {

// The first 8 bytes of sha256(key NUL node), as a number.
uint64_t Score(const std::string& key, const std::string& node) {
  std::string text = key;
  text.push_back('\0');
  text += node;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  uint64_t score = 0;
  for (int i = 0; i < 8; ++i) score = (score << 8) | digest[i];
  return score;
}

}  // namespace

std::string PickBuilderNode(const std::vector<std::string>& nodes, const std::string& key) {
  std::string best;
  uint64_t best_score = 0;
  for (const std::string& node : nodes) {
    const uint64_t score = Score(key, node);
    if (best.empty() || score > best_score || (score == best_score && node < best)) {
      best = node;
      best_score = score;
    }
  }
  return best;
}

}  // namespace kim
