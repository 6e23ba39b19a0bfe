// The --node and --distribute flags, calls on several nodes at once, and distribution.
#include "apps/kim/commands/nodes.h"

#include <algorithm>
#include <ostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "apps/kim/commands/common.h"
#include "apps/kim/output/distribute_progress.h"

namespace kim::cli {
namespace {

bool Wanted(const DistributeTargets& targets, const std::string& node) {
  return targets.all || std::find(targets.nodes.begin(), targets.nodes.end(), node) !=
                            targets.nodes.end();
}

// The agents a distribution from `request.source` goes to, and failures for the nodes it
// cannot go to (not ready, unknown).
absl::StatusOr<std::vector<AgentTarget>> TargetsOf(const std::vector<NodeAgent>& nodes,
                                                   const DistributeRequest& request,
                                                   std::vector<NodeDistribution>* skipped) {
  std::vector<AgentTarget> targets;
  for (const std::string& name : request.targets.nodes) {
    auto it = std::find_if(nodes.begin(), nodes.end(),
                           [&](const NodeAgent& n) { return n.node == name; });
    if (it == nodes.end()) {
      std::vector<std::string> names;
      for (const NodeAgent& n : nodes) names.push_back(n.node);
      return absl::NotFoundError(absl::StrCat("node \"", name, "\" has no kim agent (nodes: ",
                                              absl::StrJoin(names, ", "), ")"));
    }
  }
  for (const NodeAgent& node : nodes) {
    if (node.node == request.source || !Wanted(request.targets, node.node)) continue;
    if (!node.ready) {
      skipped->push_back(NodeDistribution{
          .node = node.node,
          .status = absl::UnavailableError("its kim agent is not ready (see `kim system info`)")});
      continue;
    }
    targets.push_back(node.target);
  }
  return targets;
}

}  // namespace

Flag NodeFlag() {
  return {.name = "node", .type = FlagType::kString,
          .usage = "Act on this node's images only (default: the builder node; see "
                   "`kim system info` for the nodes)"};
}

absl::StatusOr<std::vector<NodeImageService>> ConnectNodes(const FlagValues& flags) {
  auto options = ConnectOptionsFrom(flags);
  if (!options.ok()) return options.status();
  return ConnectNodeImageServices(*options);
}

void ForEachReachableNode(std::vector<NodeImageService>& nodes,
                          const std::function<void(size_t)>& call) {
  std::vector<std::thread> threads;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].service != nullptr) threads.emplace_back(call, i);
  }
  for (std::thread& thread : threads) thread.join();
}

absl::StatusOr<DistributeTargets> ParseDistributeTargets(const std::string& value) {
  DistributeTargets targets;
  if (value == "none") return targets;
  if (value == "all") {
    targets.all = true;
    return targets;
  }
  for (absl::string_view part : absl::StrSplit(value, ',')) {
    if (part.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --distribute \"", value, "\": use none, all, or node names separated by commas"));
    }
    targets.nodes.emplace_back(part);
  }
  return targets;
}

absl::Status DistributeImages(ImageService& source, const std::vector<NodeAgent>& nodes,
                              const DistributeRequest& request, std::ostream& out) {
  if (request.pin) {
    // Pinning protects the image from the kubelet's image GC; without it the image still runs.
    if (absl::Status pinned = source.Pin(request.images, true); !pinned.ok()) {
      out << "WARNING: could not pin " << absl::StrJoin(request.images, ", ") << " on node "
          << request.source << ": " << pinned.message() << "\n";
    }
  }
  std::vector<NodeDistribution> results;
  auto targets = TargetsOf(nodes, request, &results);
  if (!targets.ok()) return targets.status();
  if (!targets->empty()) {
    out << "Distributing " << absl::StrJoin(request.images, ", ") << " from " << request.source
        << " to " << targets->size() << (targets->size() == 1 ? " node" : " nodes") << "\n"
        << std::flush;
    DistributeProgressPrinter printer(out, request.tty);
    DistributeOptions options{.targets = *targets,
                              .pin = request.pin,
                              .progress = [&](const DistributeProgress& p) { printer.Update(p); }};
    auto sent = source.Distribute(request.images, options);
    printer.Finish();
    if (!sent.ok()) return sent.status();
    results.insert(results.end(), sent->begin(), sent->end());
  }
  absl::Status first;
  for (const NodeDistribution& result : results) {
    out << DistributionSummary(result) << "\n";
    if (!result.status.ok() && first.ok()) {
      first = absl::Status(result.status.code(),
                           absl::StrCat("node \"", result.node, "\" did not get ",
                                        absl::StrJoin(request.images, ", "), ": ",
                                        result.status.message(), " (retry with `kim image "
                                        "distribute --node ", result.node, " ",
                                        absl::StrJoin(request.images, " "), "`)"));
    }
  }
  return first;
}

}  // namespace kim::cli
