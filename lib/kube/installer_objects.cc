// The builder's Kubernetes objects as JSON.
#include "lib/kube/installer_objects.h"

#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/json_build.h"

namespace kim::kube {
namespace {

using namespace json;  // NOLINT: the builders are this file's vocabulary

}  // namespace

Json BuilderSelectorLabels() {
  return Obj({{kNameLabel, Str("kim")}, {kComponentLabel, Str("builder")}});
}

Json AgentSelectorLabels(const std::string& flavour) {
  return Obj({{kNameLabel, Str("kim")}, {kComponentLabel, Str("agent")},
              {kRuntimeNodeLabel, Str(flavour)}});
}

std::string AgentDaemonSetName(const std::string& flavour) {
  return absl::StrCat(kAgentDaemonSetPrefix, flavour);
}

Json ObjectMetadata(const std::string& name, const std::string& ns, Json labels) {
  Fields fields{{"name", Str(name)}};
  if (!ns.empty()) fields.push_back({"namespace", Str(ns)});
  fields.push_back({"labels", std::move(labels)});
  return Obj(std::move(fields));
}

Json ManagedLabels() {
  return Obj({{kNameLabel, Str("kim")}, {kComponentLabel, Str("builder")},
              {kManagedByLabel, Str("kim")}});
}

absl::StatusOr<RuntimePaths> DetectRuntime(const std::string& node,
                                           const std::string& version) {
  const size_t scheme_end = version.find("://");
  const std::string scheme = scheme_end == std::string::npos ? version : version.substr(0, scheme_end);
  if (scheme == "containerd") {
    if (version.find("-k3s") != std::string::npos) {
      return RuntimePaths{"k3s", "/run/k3s/containerd/containerd.sock",
                          "/var/lib/rancher/k3s/agent/containerd"};
    }
    return RuntimePaths{"containerd", "/run/containerd/containerd.sock", "/var/lib/containerd"};
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "container runtime \"", scheme.empty() ? "(none reported)" : scheme, "\" of node \"", node,
      "\" is not supported: kim needs containerd (set --containerd-socket and "
      "--containerd-volume if the node's containerd is not where the runtime version says)"));
}

Json NamespaceObject(const std::string& name) {
  return Obj({{"metadata", Obj({{"name", Str(name)},
                                {"labels", Obj({{kManagedByLabel, Str("kim")}})}})}});
}

Json ServiceAccountObject(const BuilderSpec& spec) {
  return Obj({{"metadata", ObjectMetadata(kBuilderName, spec.namespace_name)},
              {"automountServiceAccountToken", Json::boolean(false)}});
}

Json ServiceObject(const BuilderSpec& spec) {
  Json metadata = ObjectMetadata(kBuilderName, spec.namespace_name);
  if (!spec.endpoint_addr.empty()) {
    metadata["annotations"] = Obj({{kEndpointOverrideAnnotation, Str(spec.endpoint_addr)}});
  }
  return Obj(
      {{"metadata", metadata},
       {"spec", Obj({{"clusterIP", Str("None")},
                     {"ports", Arr({Obj({{"name", Str(kBuildkitPortName)},
                                         {"port", Num(spec.buildkit_port)},
                                         {"targetPort", Num(spec.buildkit_port)},
                                         {"protocol", Str("TCP")}}),
                                    Obj({{"name", Str(kAgentPortName)},
                                         {"port", Num(spec.agent_port)},
                                         {"targetPort", Num(spec.agent_port)},
                                         {"protocol", Str("TCP")}})})}})}});
}

Json EndpointsObject(const BuilderSpec& spec) {
  std::vector<Json> addresses;
  for (const BuilderNodeAddress& builder : spec.builders) {
    addresses.push_back(Obj({{"ip", Str(builder.host)}, {"nodeName", Str(builder.node)}}));
  }
  return Obj(
      {{"metadata", ObjectMetadata(kBuilderName, spec.namespace_name)},
       {"subsets",
        Arr({Obj({{"addresses", Arr(std::move(addresses))},
                  {"ports", Arr({Obj({{"name", Str(kBuildkitPortName)},
                                      {"port", Num(spec.buildkit_port)},
                                      {"protocol", Str("TCP")}}),
                                 Obj({{"name", Str(kAgentPortName)},
                                      {"port", Num(spec.agent_port)},
                                      {"protocol", Str("TCP")}})})}})})}});
}

Json TlsSecretObject(const std::string& name, const std::string& ns, const std::string& cert_pem,
                     const std::string& key_pem, const std::string& ca_pem) {
  Fields data{{"tls.crt", Str(absl::Base64Escape(cert_pem))},
              {"tls.key", Str(absl::Base64Escape(key_pem))}};
  if (!ca_pem.empty()) data.push_back({"ca.crt", Str(absl::Base64Escape(ca_pem))});
  return Obj({{"metadata", ObjectMetadata(name, ns, Obj({{kManagedByLabel, Str("kim")}}))},
              {"type", Str("kubernetes.io/tls")},
              {"data", Obj(std::move(data))}});
}

std::string HashJson(const Json& value) {
  const std::string text = value.serialize();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string RegistryKey(const std::string& server) {
  std::string host = absl::AsciiStrToLower(server);
  for (const char* scheme : {"https://", "http://"}) {
    if (absl::StartsWith(host, scheme)) host = host.substr(strlen(scheme));
  }
  if (size_t slash = host.find('/'); slash != std::string::npos) host = host.substr(0, slash);
  if (host.empty() || host == "docker.io" || absl::EndsWith(host, ".docker.io")) {
    return "https://index.docker.io/v1/";
  }
  return host;
}

}  // namespace kim::kube
