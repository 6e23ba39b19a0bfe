#!/bin/bash
# kim on two real nodes (the two-node lab, fixture lab2: node 1 k3s-like):
# `kim system install --selector kubernetes.io/hostname=<node 0>` puts the builder on node 0 and
# an agent-only pod (DaemonSet agent-k3s) on node 1, on k3s's containerd socket; both become
# Ready; node 1's agent answers over the install's mutual TLS at its own address and reports its
# containerd 2.x-k3s1; `kim system info` lists both nodes with their roles; a plain `kim images`
# still works; `kim system uninstall` removes the agent DaemonSet, its pod and the node labels.
. "$(dirname "$0")/lib.sh"
unset KIM_AGENT_ADDR KIM_BUILDKIT_ADDR KIM_CONTAINERD_SOCKET
# The two-node lab is shared with the other multinode tests: leave it as found.
on_exit "'$KIM' system uninstall --timeout 60s"
read -r node0 node1 <<<"$KIM_LAB_NODES"
read -r ip0 ip1 <<<"$KIM_LAB_NODE_IPS"
kims() { "$KUBECTL" --request-timeout=20s -n kube-image "$@"; }

check "kim system install --selector kubernetes.io/hostname=$node0" \
  "$KIM" system install --selector "kubernetes.io/hostname=$node0" --timeout 240s
output_has "install makes the agent DaemonSet for node 1's k3s layout" \
  "Agent DaemonSet \`agent-k3s\` for node \`$node1\`: containerd socket /run/k3s/containerd/containerd.sock"
output_has "install waits for both nodes' pods" "Waiting for kim's pods \(.*node \`$node1\` \(agent\)"
output_has "and says the builder is ready on node 0's address" "Builder ready: buildkitd at $ip0:1234"
output_has "and the agent on node 1" "Agents ready on $node1 "

pod_on() {  # pod_on COMPONENT NODE: the name of the running, Ready kim pod of COMPONENT on NODE
  kims get pods -l "app.kubernetes.io/name=kim,app.kubernetes.io/component=$1" \
    --field-selector "spec.nodeName=$2" \
    -o jsonpath='{range .items[?(@.status.phase=="Running")]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    awk '$2 == "True" {print $1; exit}' | grep .
}
check "the builder pod runs on node 0 and is Ready" pod_on builder "$node0"
check "no builder pod runs on node 1" sh -c "! '$KUBECTL' -n kube-image get pods -l app.kubernetes.io/component=builder --field-selector spec.nodeName=$node1 --no-headers 2>/dev/null | grep -q ."
check "an agent pod runs on node 1 and is Ready" pod_on agent "$node1"
agent_pod=$(pod_on agent "$node1" || true)
check "no agent-only pod on node 0 (its builder pod has the agent)" sh -c "! '$KUBECTL' -n kube-image get pods -l app.kubernetes.io/component=agent --field-selector spec.nodeName=$node0 --no-headers 2>/dev/null | grep -q ."
check "node 1's agent pod mounts k3s's containerd socket" sh -c \
  "'$KUBECTL' -n kube-image get pod '$agent_pod' -o jsonpath='{.spec.volumes[?(@.name==\"containerd-socket\")].hostPath.path} {.spec.containers[0].args}' | grep -E '^/run/k3s/containerd/containerd.sock .*--containerd-socket=/run/k3s/containerd/containerd.sock'"
check "its DaemonSet is agent-k3s" sh -c \
  "[ \"\$('$KUBECTL' -n kube-image get pod '$agent_pod' -o jsonpath='{.metadata.ownerReferences[0].name}')\" = agent-k3s ]"
check "node 0 carries the builder role and runtime containerd" sh -c \
  "'$KUBECTL' get node $node0 --show-labels | grep node-role.kubernetes.io/builder=true | grep -q kim.rancher.io/runtime=containerd"
check "node 1 carries runtime k3s and no builder role" sh -c \
  "'$KUBECTL' get node $node1 --show-labels | grep kim.rancher.io/runtime=k3s | grep -vq node-role.kubernetes.io/builder"

# Node 1's agent, dialed at node 1's own address with the install's client certificate: the
# server certificate names every served node, and the agent is on the k3s node's containerd 2.
tls=$WORK/tls
mkdir -p "$tls"
for key in ca.crt tls.crt tls.key; do
  kims get secret kim-tls-client -o jsonpath="{.data.${key//./\\.}}" | base64 -d >"$tls/$key"
done
check "kim system info, with node 1's agent dialed directly" \
  "$KIM" --agent-addr "$ip1:1233" --tlscacert "$tls/ca.crt" --tlscert "$tls/tls.crt" --tlskey "$tls/tls.key" system info
output_has "node 1's agent runs on the k3s node's containerd 2.1.5-k3s1" "kim-agent: +running kim-agent v[^ ]+.* on containerd v?2\.1\.5-k3s1.*healthy"
check "kim images through node 1's agent lists the images of node 1" \
  "$KIM" --agent-addr "$ip1:1233" --tlscacert "$tls/ca.crt" --tlscert "$tls/tls.crt" --tlskey "$tls/tls.key" images
output_has "among them kim-agent's own image" "rancher/kim-agent"

check "kim system info" "$KIM" system info
output_has "info names node 0 as the builder node" "Builder node: +$node0\$"
output_has "info shows the builder ready" "Ready: +1/1"
output_has "info has a NODES table" "^NAME +ROLE +RUNTIME +AGENT +READY\$"
output_has "node 0 is the builder, on containerd 1.x, ready" "^$node0 +builder +containerd://1\.[0-9.]+ +v[^ ]+ +true\$"
output_has "node 1 is an agent, on containerd 2.1.5-k3s1, ready" "^$node1 +agent +containerd://2\.1\.5-k3s1 +v[^ ]+ +true\$"
check "a plain kim images works (node 0's agent, discovered)" "$KIM" images
output_has "it lists the builder's images" "moby/buildkit"

check "kim system uninstall" "$KIM" system uninstall --timeout 120s
output_has "uninstall removes the runtime label from node 1" "Removing label \`kim.rancher.io/runtime\` from node \`$node1\`"
check "the namespace is gone (the agent DaemonSet with it)" sh -c "! '$KUBECTL' get namespace kube-image 2>/dev/null"
check "no DaemonSet agent-k3s is left" sh -c "! '$KUBECTL' get daemonsets -A --no-headers 2>/dev/null | grep -q agent-k3s"
check "no node carries kim's labels" sh -c \
  "! '$KUBECTL' get nodes -l kim.rancher.io/runtime --no-headers 2>/dev/null | grep -q . && ! '$KUBECTL' get nodes -l node-role.kubernetes.io/builder --no-headers 2>/dev/null | grep -q ."
agent_gone() {
  local left
  for _ in $(seq 60); do
    left=$(in_node 1 ctr --address /run/k3s/containerd/containerd.sock -n k8s.io containers ls -q 2>/dev/null |
      while read -r c; do in_node 1 ctr --address /run/k3s/containerd/containerd.sock -n k8s.io containers info "$c" 2>/dev/null |
        grep -q '"io.kubernetes.pod.namespace": "kube-image"' && echo "$c"; done | grep -c . || true)
    [ "$left" = 0 ] && return 0
    sleep 1
  done
  echo "$left kim containers left on node 1"; return 1
}
check "no kim container is left on node 1" agent_gone
finish
