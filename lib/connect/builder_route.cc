// RouteToBuilder: direct probe, tunnel, and the per-context memory of which worked.
#include "lib/connect/builder_route.h"

#include "absl/strings/str_cat.h"
#include "kim/log.h"
#include "lib/connect/route_cache.h"
#include "lib/connect/tcp_probe.h"
#include "lib/kube/port_forward.h"
#include "lib/kube/user_access.h"

namespace kim {
namespace {

constexpr absl::Duration kNeverProbe = absl::Seconds(3);
constexpr absl::Duration kAutoProbe = absl::Milliseconds(1500);
// A remembered tunnel is trusted this long before the direct route is tried first again (the
// user may have joined the cluster's network since).
constexpr absl::Duration kTunnelMemory = absl::Hours(1);

std::string CacheKey(const kube::Client& client, const std::string& ns) {
  const kube::RestConfig& config = client.config();
  return absl::StrCat(config.context_name, "|", config.server, "|", ns);
}

std::string RoutingHint(const std::string& host) {
  return absl::StrCat("is the node address ", host,
                      " routable from here? If not, use --tunnel=auto or --tunnel=always to go "
                      "through the API server, or reinstall with `kim system install --force "
                      "--endpoint-addr ADDRESS` giving one that is");
}

// The server certificate is checked against the dialled address, as before the tunnel existed
// (certificates of older installs, or given by hand, need not name builder.<ns>.svc).
BuilderRoute Direct(const kube::BuilderEndpoint& builder, int port) {
  return BuilderRoute{.address = HostPort(builder.host, port), .hint = RoutingHint(builder.host)};
}

absl::StatusOr<BuilderRoute> Tunnel(const ConnectOptions& options,
                                    const std::shared_ptr<kube::Client>& client,
                                    const kube::BuilderEndpoint& builder, int port) {
  // buildkitd runs in the builder pods only; every node's agent, in its builder or agent pod.
  auto pod = port == builder.agent_port
                 ? kube::FindAgentPod(*client, options.namespace_name, builder.node_name)
                 : kube::FindBuilderPod(*client, options.namespace_name, builder.node_name);
  if (!pod.ok()) return kube::WithUserRoleHint(pod.status(), options.namespace_name);
  LogDebug(0, absl::StrCat("route: tunnel to pod ", options.namespace_name, "/", *pod, " port ",
                           port, " through the API server"));
  auto forward = kube::PortForward::Start(
      client, kube::PortForwardOptions{.namespace_name = options.namespace_name,
                                       .pod = *pod,
                                       .port = port});
  if (!forward.ok()) return kube::WithUserRoleHint(forward.status(), options.namespace_name);
  std::shared_ptr<kube::PortForward> tunnel(std::move(*forward));
  return BuilderRoute{
      .address = tunnel->local_address(),
      .server_name = builder.server_name,
      .hint = absl::StrCat("through the API server's port-forward to pod ", options.namespace_name,
                           "/", *pod, " port ", port),
      .keep_alive = tunnel};
}

}  // namespace

std::string HostPort(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]:", port)
                                             : absl::StrCat(host, ":", port);
}

absl::StatusOr<BuilderRoute> RouteToBuilder(const ConnectOptions& options,
                                            const std::shared_ptr<kube::Client>& client,
                                            const kube::BuilderEndpoint& builder, int port) {
  const std::string target = HostPort(builder.host, port);
  if (options.tunnel == "always") {
    LogDebug(0, "tunnel: --tunnel=always");
    return Tunnel(options, client, builder, port);
  }
  if (options.tunnel == "never") {
    if (absl::Status probe = ProbeTcp(builder.host, port, kNeverProbe); !probe.ok()) {
      return absl::UnavailableError(absl::StrCat("cannot reach the builder at ", probe.message(),
                                                 " (", RoutingHint(builder.host), ")"));
    }
    LogDebug(0, absl::StrCat("route: direct to ", target, " (--tunnel=never)"));
    return Direct(builder, port);
  }
  if (options.tunnel != "auto") {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid tunnel mode \"", options.tunnel, "\" (use auto, always or never)"));
  }
  const std::string key = CacheKey(*client, options.namespace_name);
  const std::optional<CachedRoute> cached = ReadCachedRoute(key);
  absl::Status tunnel_error;
  bool tunnel_tried = false;
  // A tunnel that worked for one node of this cluster is taken for its other nodes too: whether
  // node addresses are routable from here is a property of the network kim runs in.
  if (cached && cached->route == "tunnel" && absl::Now() - cached->checked < kTunnelMemory) {
    LogDebug(0, absl::StrCat("tunnel: the route cached for context \"",
                             client->config().context_name, "\" (", RouteCachePath(), ")"));
    auto tunnel = Tunnel(options, client, builder, port);
    if (tunnel.ok()) return tunnel;
    tunnel_tried = true;
    tunnel_error = tunnel.status();
    LogDebug(0, absl::StrCat("the cached tunnel failed, probing the node: ",
                             tunnel_error.message()));
  }
  absl::Status probe = ProbeTcp(builder.host, port, kAutoProbe);
  if (probe.ok()) {
    LogDebug(0, absl::StrCat("route: direct to ", target));
    if (!cached || cached->route != "direct" || cached->host != builder.host) {
      WriteCachedRoute(key, {.route = "direct", .host = builder.host, .checked = absl::Now()});
    }
    return Direct(builder, port);
  }
  LogDebug(0, absl::StrCat("the node does not answer directly (", probe.message(),
                           "), trying the API server"));
  if (!tunnel_tried) {
    auto tunnel = Tunnel(options, client, builder, port);
    if (tunnel.ok()) {
      WriteCachedRoute(key, {.route = "tunnel", .host = builder.host, .checked = absl::Now()});
      return tunnel;
    }
    tunnel_error = tunnel.status();
  }
  const absl::StatusCode code = absl::IsPermissionDenied(tunnel_error)
                                    ? absl::StatusCode::kPermissionDenied
                                    : absl::StatusCode::kUnavailable;
  return absl::Status(code, absl::StrCat("cannot reach the builder: directly at ", probe.message(),
                                         " (is the node address ", builder.host,
                                         " routable from here?); and ", tunnel_error.message()));
}

}  // namespace kim
