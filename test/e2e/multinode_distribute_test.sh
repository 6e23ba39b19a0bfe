#!/bin/bash
# Several nodes (issue #13), on the two-node lab (node 1 k3s-like: containerd 2.x in k3s's
# paths): install with the builder on node 0 and an agent on node 1; `kim build` on node 0 and the
# image is on node 1 too, pinned there, so a Pod pinned to node 1 with imagePullPolicy Never runs
# it; a second image sharing the first's layers moves only its new blobs; `kim images
# --all-nodes`, `--node`; `kim rmi` removes from both nodes; `kim image distribute` of a pulled
# image; the receiving agent killed mid-transfer leaves no half image and a retry completes;
# `kim build --node`, `--distribute none`; uninstall.
. "$(dirname "$0")/lib.sh"
unset KIM_AGENT_ADDR KIM_BUILDKIT_ADDR KIM_CONTAINERD_SOCKET
read -r -a nodes <<<"$KIM_LAB_NODES"
[ ${#nodes[@]} -ge 2 ] || { echo "e2e: this test needs the two-node lab (KIM_LAB_NODES='$KIM_LAB_NODES')"; exit 1; }
n0=${nodes[0]} n1=${nodes[1]}
on_exit "'$KIM' system uninstall --timeout 60s"
# Node 1 is k3s-like: its containerd's socket is k3s's.
node1_ctr() { in_node 1 ctr --address /run/k3s/containerd/containerd.sock -n k8s.io "$@"; }
# has_image N NAME: node N's containerd has an image record NAME (fully qualified).
has_image() {
  if [ "$1" = 0 ]; then node_ctr 0 images ls -q; else node1_ctr images ls -q; fi | grep -qx "$2"
}
lacks_image() { ! has_image "$@"; }
# record N NAME: node N's image record NAME with its labels (ctr images ls).
record() {
  if [ "$1" = 0 ]; then node_ctr 0 images ls; else node1_ctr images ls; fi | grep "^$2 "
}
# pod_on NODE NAME IMAGE: run_pod on NODE with imagePullPolicy Never.
pod_on() { run_pod "$2" "$3" Never false "$1"; }

check "kim system install, builder on $n0" \
  "$KIM" system install --timeout 240s --selector "kubernetes.io/hostname=$n0"
check "kim system info" "$KIM" system info
output_has "lists $n0 as a builder" "$n0 +builder"
output_has "lists $n1 with an agent" "$n1 +agent"

ctx=$WORK/app
mkdir -p "$ctx"
head -c 3000000 /dev/urandom >"$ctx/base.bin"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $KIM_LAB_REGISTRY/busybox:1
COPY base.bin /base.bin
RUN echo "built on \$(hostname) by kim, distributed" > /greeting
CMD ["cat", "/greeting"]
DOCKERFILE
check "kim build -t app:1 (on $n0, distributed by default)" "$KIM" build --progress plain -t app:1 "$ctx"
output_has "the build output reports the copy to $n1" "^$n1: [0-9]+ of [0-9]+ blobs sent"
check "node 1's containerd has app:1" has_image 1 docker.io/library/app:1
check "node 1's record of app:1" record 1 docker.io/library/app:1
output_has "is pinned against the kubelet's image GC" 'io.cri-containerd.pinned=pinned'
check "node 0's record of app:1" record 0 docker.io/library/app:1
output_has "is pinned too" 'io.cri-containerd.pinned=pinned'
check "a Pod pinned to $n1 runs app:1 with imagePullPolicy Never" pod_on "$n1" e2e-dist-1 app:1
check "its log" kubectl logs e2e-dist-1
output_has "has the greeting the build wrote" '^built on .* by kim, distributed$'

# A second image on the first: only the new layer, its config and its manifest move.
ctx2=$WORK/app2
mkdir -p "$ctx2"
head -c 2000000 /dev/urandom >"$ctx2/top.bin"
printf 'FROM app:1\nCOPY top.bin /top.bin\n' >"$ctx2/Dockerfile"
check "kim build -t app:2 FROM app:1" "$KIM" build --progress plain -t app:2 "$ctx2"
output_has "moves only 3 blobs to $n1: the new layer, the config, the manifest" "^$n1: 3 of [0-9]+ blobs sent"
output_has "about 2 MB: the new 2,000,000-byte layer, not the 3 MB one below it" "^$n1: 3 of [0-9]+ blobs sent \(2(\.0[0-9]*)?MB\)"
check "a Pod pinned to $n1 runs app:2" pod_on "$n1" e2e-dist-2 app:2

check "kim images --all-nodes" "$KIM" images --all-nodes app
output_has "has a NODE column" '^NODE +IMAGE +TAG'
output_has "app:1 on $n0" "^$n0 +app +1 "
output_has "app:1 on $n1" "^$n1 +app +1 "
check "kim images --node $n1" "$KIM" images --node "$n1" app
output_has "lists app:2 there" '^app +2 '
check_fails "kim images --node of a node without kim" 'node "no-such-node" has no kim agent' \
  "$KIM" images --node no-such-node
kubectl delete pod e2e-dist-1 e2e-dist-2 --wait=true >/dev/null 2>&1 || true
check "kim rmi app:2 (from every node)" "$KIM" rmi app:2
output_has "says it once" '^Untagged: app:2$'
check "node 0 no longer has app:2" lacks_image 0 docker.io/library/app:2
check "node 1 no longer has app:2" lacks_image 1 docker.io/library/app:2

# An image pulled on one node, then distributed.
pulled=$KIM_LAB_REGISTRY/busybox:1
check "kim pull --node $n0 $pulled" "$KIM" pull --node "$n0" "$pulled"
check "kim image distribute $pulled" "$KIM" image distribute "$pulled"
output_has "sends it to $n1" "^$n1: ([0-9]+ of [0-9]+ blobs sent|up to date)"
check "a Pod pinned to $n1 runs it with imagePullPolicy Never" pod_on "$n1" e2e-dist-3 "$pulled"
kubectl delete pod e2e-dist-3 --wait=false >/dev/null 2>&1 || true

# Builder choice and --distribute none.
check_fails "kim build --node $n1 fails, naming the builder nodes" \
  "runs no builder \(builder nodes: $n0\)" "$KIM" build --node "$n1" -t app:3 "$ctx"
check "kim build --distribute none -t app:3" "$KIM" build --progress plain --distribute none -t app:3 "$ctx"
check "app:3 is on node 0" has_image 0 docker.io/library/app:3
check "and not on node 1" lacks_image 1 docker.io/library/app:3

# Fault: the receiving agent killed mid-transfer.
big=$WORK/big
mkdir -p "$big"
head -c 150000000 /dev/urandom >"$big/big.bin"
printf 'FROM scratch\nCOPY big.bin /big.bin\n' >"$big/Dockerfile"
check "kim build -t big:1 --distribute none (150 MB)" "$KIM" build --progress plain --distribute none -t big:1 "$big"
# Node 1's kim-agent processes (host PIDs): those whose ancestors include node 1's PID 1 (a pod's
# containers have PID namespaces of their own, below node 1's containerd shim).
node1_agent_pids() {
  local pids=($KIM_LAB_NODE_PIDS) pid up
  for pid in $(pgrep -x kim-agent || true); do
    up=$pid
    while [ "$up" -gt 1 ] && [ "$up" != "${pids[1]}" ]; do
      up=$(awk '{print $4}' "/proc/$up/stat" 2>/dev/null || echo 0)
    done
    [ "$up" = "${pids[1]}" ] && echo "$pid"
  done
  return 0
}
kill_when_receiving() {
  for _ in $(seq 400); do
    if node1_ctr content active 2>/dev/null | grep -q .; then
      local agents
      agents=$(node1_agent_pids)
      [ -n "$agents" ] || { echo "no kim-agent process of node 1 found"; return 1; }
      kill -9 $agents && return 0
    fi
    sleep 0.05
  done
  echo "no ingest appeared on node 1"; return 1
}
"$KIM" image distribute --node "$n1" big:1 >"$WORK/dist.out" 2>&1 &
dist=$!
check "node 1's agent killed while it receives big:1" kill_when_receiving
rc=0; wait $dist || rc=$?
cp "$WORK/dist.out" "$WORK/last"
if [ $rc -ne 0 ]; then ok "the distribution fails (exit $rc)"; else bad "the distribution exited 0 though its receiver died"; fi
output_has "with an error naming node $n1" "node \"$n1\" did not get big:1"
check "node 1 has no big:1 (no half image)" lacks_image 1 docker.io/library/big:1
agent_back() {  # node 1's kim pod Ready again (its readiness probe passed) after the restart
  local ready
  for _ in $(seq 120); do
    ready=$(kubectl -n kube-image get pods -l app.kubernetes.io/name=kim --field-selector "spec.nodeName=$n1" \
      -o jsonpath='{.items[*].status.containerStatuses[*].ready}' 2>/dev/null || true)
    [ -n "$(node1_agent_pids)" ] && [ "$ready" = true ] && return 0
    sleep 1
  done
  echo "node 1's agent did not come back (ready: '${ready:-}')"; return 1
}
check "the kubelet restarts node 1's agent and it turns ready" agent_back
check "a retry completes" "$KIM" image distribute --node "$n1" big:1
output_has "and sends the image" "^$n1: [0-9]+ of [0-9]+ blobs sent"
check "node 1 has big:1 now" has_image 1 docker.io/library/big:1
check "kim rmi big:1 app:1 app:3 $pulled" "$KIM" rmi big:1 app:1 app:3 "$pulled"

check "kim system uninstall" "$KIM" system uninstall --timeout 120s
check "no node keeps kim's runtime label" sh -c "! '$KUBECTL' get nodes -l kim.rancher.io/runtime --no-headers 2>/dev/null | grep -q ."
finish
