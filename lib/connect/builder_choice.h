// Which builder node a build runs on when the user names none: the same node for the same
// context every time (BuildKit's cache for that context lives there), spread over the ready
// builder nodes. Internal to libkim.
#ifndef KIM_LIB_CONNECT_BUILDER_CHOICE_H_
#define KIM_LIB_CONNECT_BUILDER_CHOICE_H_

#include <string>
#include <vector>

namespace kim {

// Picks one of `nodes` for `key` by rendezvous hashing: each node scores sha256(key, node) and
// the highest wins, so a key keeps its node while that node stays in the list, and a node that
// leaves moves only its own keys. Empty when `nodes` is empty.
std::string PickBuilderNode(const std::vector<std::string>& nodes, const std::string& key);

}  // namespace kim

#endif  // KIM_LIB_CONNECT_BUILDER_CHOICE_H_
