// Playing kubelet and controllers for tests against a bare API server.
#include "test/support/kube_cluster.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "lib/kube/installer_objects.h"
#include "lib/kube/kubeconfig.h"
#include "test/support/peers.h"

namespace kim::test {

using kube::JsonAt;
using kube::JsonString;

std::shared_ptr<kube::Client> KubeClient(const std::string& kubeconfig) {
  kube::LoadOptions options;
  options.explicit_paths = kubeconfig;
  auto config = kube::LoadRestConfig(options);
  INFO(config.status());
  REQUIRE(config.ok());
  auto client = kube::Client::New(*config);
  INFO(client.status());
  REQUIRE(client.ok());
  return std::shared_ptr<kube::Client>(std::move(*client));
}

std::shared_ptr<kube::Client> KubeAdmin() { return KubeClient(PeerEnv("KIM_TEST_KUBECONFIG")); }

ProcessOutput Kim(const std::vector<std::string>& args, const std::string& input,
                  const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {KIM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOutput out = Run(argv, input, env);
  UNSCOPED_INFO("kim " << absl::StrJoin(args, " ") << " → " << out.exit_code << "\nstdout: "
                       << out.out << "\nstderr: " << out.err);
  return out;
}

std::set<std::string> ObjectNames(kube::Client& client, const kube::Resource& resource,
                                  const std::string& ns, const std::string& selector) {
  auto list = client.List(resource, ns, {.label_selector = selector});
  INFO(list.status());
  REQUIRE(list.ok());
  std::set<std::string> names;
  for (const Json& item : list->at("items").as_array()) {
    names.insert(JsonString(item, {"metadata", "name"}));
  }
  return names;
}

std::string UniqueName(const std::string& prefix) {
  static int counter = 0;
  return absl::StrCat(prefix, "-", getpid(), "-", ++counter, "-",
                      absl::ToUnixMillis(absl::Now()) % 100000);
}

void CreateNode(kube::Client& client, const std::string& name, const std::string& ip,
                int kubelet_port) {
  // The API server dials a kubelet at the node's Hostname address first: "localhost" with a
  // port where nothing listens is refused at once (Endpoints may not hold a loopback IP, so
  // InternalIP cannot be it).
  const std::string hostname = absl::StrCat(R"(,{"type":"Hostname","address":")",
                                            kubelet_port == 0 ? name : "localhost", R"("})");
  Json node = Json::parse(absl::StrCat(
      R"({"metadata":{"name":")", name, R"(","labels":{"kubernetes.io/hostname":")", name,
      R"("}},"status":{"nodeInfo":{"containerRuntimeVersion":"containerd://1.7.21-k3s1",)",
      R"("kubeletVersion":"v1.34.4+k3s1","machineID":"","systemUUID":"","bootID":"",)",
      R"("kernelVersion":"","osImage":"","kubeProxyVersion":"","operatingSystem":"linux",)",
      R"("architecture":"amd64"},"daemonEndpoints":{"kubeletEndpoint":{"Port":)", kubelet_port,
      R"(}},"addresses":[{"type":"InternalIP","address":")", ip, R"("})", hostname, "]}}"));
  auto created = client.Create(kube::kNodes, "", node);
  INFO(created.status());
  REQUIRE(created.ok());
  // The API server ignores a status given at creation: write it through the subresource.
  Json with_status = *created;
  with_status["status"] = node.at("status");
  auto updated = client.Update(kube::kNodes, "", with_status, "status");
  INFO(updated.status());
  REQUIRE(updated.ok());
}

Json CreateBuilderPod(kube::Client& client, const std::string& ns, const std::string& node) {
  return CreateDaemonSetPod(client, ns, kube::kBuilderName, node);
}

Json CreateDaemonSetPod(kube::Client& client, const std::string& ns, const std::string& daemonset,
                        const std::string& node) {
  auto ds = client.Get(kube::kDaemonSets, ns, daemonset);
  INFO(ds.status());
  REQUIRE(ds.ok());
  const Json& template_spec = ds->at("spec").at("template");
  Json metadata = template_spec.at("metadata");
  metadata["generateName"] = Json::string(daemonset + "-");
  metadata["labels"]["pod-template-generation"] = Json::string(
      JsonString(*ds, {"metadata", "annotations", "deprecated.daemonset.template.generation"}));
  metadata["labels"]["controller-revision-hash"] = Json::string("5d8f7c9b6");
  Json owner = Json::object();
  owner["apiVersion"] = Json::string("apps/v1");
  owner["kind"] = Json::string("DaemonSet");
  owner["name"] = Json::string(daemonset);
  owner["uid"] = Json::string(JsonString(*ds, {"metadata", "uid"}));
  owner["controller"] = Json::boolean(true);
  owner["blockOwnerDeletion"] = Json::boolean(true);
  metadata["ownerReferences"] = Json::array({owner});
  Json pod = Json::object();
  pod["metadata"] = metadata;
  pod["spec"] = template_spec.at("spec");
  pod["spec"]["nodeName"] = Json::string(node);
  auto created = client.Create(kube::kPods, ns, pod);
  INFO(created.status());
  REQUIRE(created.ok());
  return *created;
}

namespace {

std::string SpecImage(const Json& pod, const char* list, const std::string& name) {
  const Json* containers = JsonAt(pod, {"spec", list});
  if (containers == nullptr || !containers->is_array()) return "";
  for (const Json& container : containers->as_array()) {
    if (JsonString(container, {"name"}) == name) return JsonString(container, {"image"});
  }
  return "";
}

Json Statuses(const Json& pod, const char* list, const std::vector<ContainerReport>& reports) {
  std::vector<Json> out;
  for (const ContainerReport& report : reports) {
    Json status = Json::object();
    status["name"] = Json::string(report.name);
    status["image"] = Json::string(SpecImage(pod, list, report.name));
    status["imageID"] = Json::string("");
    status["ready"] = Json::boolean(report.ready);
    status["restartCount"] = Json::number(report.restarts);
    status["state"] = Json::parse(report.state);
    status["lastState"] = Json::parse(report.last_state);
    out.push_back(status);
  }
  return Json::array(out);
}

Json Condition(const std::string& type, bool status) {
  Json condition = Json::object();
  condition["type"] = Json::string(type);
  condition["status"] = Json::string(status ? "True" : "False");
  return condition;
}

}  // namespace

void SetPodStatus(kube::Client& client, const Json& pod, const std::string& phase,
                  const std::vector<ContainerReport>& init,
                  const std::vector<ContainerReport>& containers) {
  bool ready = !containers.empty();
  for (const ContainerReport& report : containers) ready = ready && report.ready;
  Json status = Json::object();
  status["phase"] = Json::string(phase);
  status["conditions"] = Json::array({Condition("PodScheduled", true), Condition("Initialized", true),
                                      Condition("ContainersReady", ready), Condition("Ready", ready)});
  status["initContainerStatuses"] = Statuses(pod, "initContainers", init);
  status["containerStatuses"] = Statuses(pod, "containers", containers);
  const std::string ns = JsonString(pod, {"metadata", "namespace"});
  // Read the pod again: the status update needs its latest resourceVersion.
  auto current = client.Get(kube::kPods, ns, JsonString(pod, {"metadata", "name"}));
  INFO(current.status());
  REQUIRE(current.ok());
  (*current)["status"] = status;
  auto updated = client.Update(kube::kPods, ns, *current, "status");
  INFO(updated.status());
  REQUIRE(updated.ok());
}

void SetPodReady(kube::Client& client, const Json& pod) {
  SetPodStatus(client, pod, "Running",
               {{.name = "rshared-mounts",
                 .state = R"({"terminated":{"exitCode":0,"reason":"Completed"}})"}},
               {{.name = "buildkitd", .ready = true}, {.name = "agent", .ready = true}});
}

void ReleaseNamespace(kube::Client& client, const std::string& ns) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto object = client.Get(kube::kNamespaces, "", ns);
    if (absl::IsNotFound(object.status())) return;
    REQUIRE(object.ok());
    Json released = *object;
    released["metadata"]["finalizers"] = Json::array();
    if (!client.Update(kube::kNamespaces, "", released).ok()) continue;  // changed: again
    object = client.Get(kube::kNamespaces, "", ns);
    if (absl::IsNotFound(object.status())) return;
    REQUIRE(object.ok());
    released = *object;
    released["spec"]["finalizers"] = Json::array();
    (void)client.Update(kube::kNamespaces, "", released, "finalize");
    return;
  }
}

std::string SecretField(kube::Client& client, const std::string& ns, const std::string& name,
                        const std::string& key) {
  auto secret = client.Get(kube::kSecrets, ns, name);
  INFO(secret.status());
  REQUIRE(secret.ok());
  std::string decoded;
  REQUIRE(absl::Base64Unescape(JsonString(*secret, {"data", key.c_str()}), &decoded));
  return decoded;
}

}  // namespace kim::test
