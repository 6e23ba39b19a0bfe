#!/bin/bash
# The configuration of one lab node, written by scripts/lab (sourced): its containerd (CRI, CNI,
# the lab's registries as plain HTTP), CNI bridge conflist, kubelet configuration and kubeconfig,
# and node.env for scripts/lab.d/node-init. docs/testing.md ("Settings this sandbox needs") says
# why each unusual setting is there. Uses scripts/lab's L, IMAGES, REGISTRY_HOSTS, K8S_BIN,
# K3S_NODES, CONTAINERD_K3S_BIN, node_ip, node_name, pod_cidr and lab_kubeconfig.

K3S_CONTAINERD_STATE=/run/k3s/containerd   # k3s's containerd socket lives in its state dir

# is_k3s_node N: whether node N is k3s-like (scripts/lab's K3S_NODES lists them)
is_k3s_node() { case " $K3S_NODES " in *" $1 "*) return 0 ;; esac; return 1; }

write_node_config() {  # write_node_config N
  local n=$1 nd reg pki=$L/pki sock=/run/containerd/containerd.sock
  nd=$L/node-$n
  is_k3s_node "$n" && sock=$K3S_CONTAINERD_STATE/containerd.sock
  mkdir -p "$nd/logs" "$nd/fs" "$nd/cni/net.d" "$nd/cni/state" "$nd/certs.d" "$nd/pki"
  cp "$pki/ca.pem" "$nd/pki/ca.pem"
  cp "$pki/node-$n-serving.pem" "$nd/pki/serving.pem"; cp "$pki/node-$n-serving-key.pem" "$nd/pki/serving-key.pem"
  # containerd pulls from the lab's registries over plain HTTP (they are loopback, as in Docker)
  for reg in $REGISTRY_HOSTS; do
    mkdir -p "$nd/certs.d/$reg"
    printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve", "push"]\n  skip_verify = true\n' \
      "$reg" "$reg" >"$nd/certs.d/$reg/hosts.toml"
  done
  if is_k3s_node "$n"; then write_k3s_containerd_config "$n"; else cat >"$nd/containerd.toml" <<TOML
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$(cat "$IMAGES/pause.name")"
    restrict_oom_score_adj = true
    disable_apparmor = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$nd/cni/net.d"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "$nd/certs.d"
TOML
  fi
  cat >"$nd/cni/net.d/10-kim-lab.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "kim-lab", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$nd/cni/state", "ranges": [[{"subnet": "$(pod_cidr "$n")"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
  : >"$nd/resolv.conf"   # no name server: nothing in the lab resolves names outside it
  cat >"$nd/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $(node_ip "$n")
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $nd/pki/ca.pem}
authorization: {mode: Webhook}
tlsCertFile: $nd/pki/serving.pem
tlsPrivateKeyFile: $nd/pki/serving-key.pem
containerRuntimeEndpoint: unix://$sock
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
resolvConf: $nd/resolv.conf
clusterDomain: cluster.local
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
localStorageCapacityIsolation: false
serializeImagePulls: false
YAML
  lab_kubeconfig "$nd/kubelet.kubeconfig" "node-$n" "system:node:$(node_name "$n")"
  cat >"$nd/node.env" <<ENV
NODE_NAME=$(node_name "$n")
CONTAINERD_SOCK=$sock
CONTAINERD_BIN=$(if is_k3s_node "$n"; then echo "$CONTAINERD_K3S_BIN"; fi)
NODE_IP=$(node_ip "$n")
KUBELET=$K8S_BIN/kubelet
NODE_IMAGES="$IMAGES/pause.tar $IMAGES/agent.tar $IMAGES/buildkit.tar"
NODE_IMAGE_NAMES="$(cat "$IMAGES/pause.name") $(cat "$IMAGES/agent.name") $(cat "$IMAGES/buildkit.name")"
ENV
}

# A k3s node's containerd: containerd 2.x (CONTAINERD_K3S_BIN, built by build-go-peer
# containerd-k3s) in k3s's layout, with k3s's socket and state paths, and the same CRI settings as
# the other nodes in containerd 2's configuration version 3.
write_k3s_containerd_config() {  # write_k3s_containerd_config N
  local n=$1 nd
  nd=$L/node-$n
  cat >"$nd/containerd.toml" <<TOML
version = 3
root = "/var/lib/rancher/k3s/agent/containerd"
state = "$K3S_CONTAINERD_STATE"
[grpc]
  address = "$K3S_CONTAINERD_STATE/containerd.sock"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "$(cat "$IMAGES/pause.name")"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "$nd/certs.d"
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$nd/cni/net.d"
    max_conf_num = 1
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
TOML
}
