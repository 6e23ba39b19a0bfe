#!/bin/bash
# scripts/lab up --nodes 2, a running Pod on each node, then scripts/lab down: nothing is left
# behind — no process of the lab, no mount under its directory or in the node's paths, no network
# device, no container or cgroup, no reservation, no directory. The second node is k3s-like:
# containerd 2.x reporting a -k3s1 version, its socket where k3s keeps it.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
links_before=$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort)

env_lines=$("$SRC/scripts/lab" up --nodes 2) || { echo "FAIL: scripts/lab up failed"; echo "0 passed, 1 failed"; exit 1; }
eval "$env_lines"
dir=$KIM_LAB_DIR
downed=0
trap '[ $downed = 1 ] || "$SRC/scripts/lab" down "$dir" >/dev/null 2>&1 || true' EXIT   # never leave it up
net=$(cat "$dir/net")
kubectl=$KIM_LAB_KUBECTL
cids=""
for n in 0 1; do
  "$kubectl" run "e2e-sleeper-$n" --image="$KIM_LAB_REGISTRY/busybox:1" --restart=Never \
    --overrides="{\"spec\":{\"nodeName\":\"kim-lab-node-$n\"}}" -- sleep 3600 >/dev/null
done
for n in 0 1; do
  if "$kubectl" wait --for=condition=Ready "pod/e2e-sleeper-$n" --timeout=90s >/dev/null; then ok "a pod runs on node $n"; else bad "the pod on node $n did not start"; fi
  cid=$("$kubectl" get pod "e2e-sleeper-$n" -o jsonpath='{.status.containerStatuses[0].containerID}' || true)
  cids="$cids ${cid#containerd://}"
done
runtime=$("$kubectl" get node kim-lab-node-1 -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}' || true)
case $runtime in containerd://2.*-k3s1) ok "node 1 is k3s-like: $runtime" ;; *) bad "node 1 reports runtime '$runtime', not containerd://2.x-k3s1" ;; esac
runtime0=$("$kubectl" get node kim-lab-node-0 -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}' || true)
case $runtime0 in *-k3s*) bad "node 0 should run Debian's containerd, reports '$runtime0'" ;; containerd://*) ok "node 0 runs Debian's containerd: $runtime0" ;; *) bad "node 0 reports runtime '$runtime0'" ;; esac
pid1=${KIM_LAB_NODE_PIDS##* }
nsenter -t "$pid1" -m -r -w test -S /run/k3s/containerd/containerd.sock && ok "node 1's containerd listens on /run/k3s/containerd/containerd.sock" \
  || bad "no socket at /run/k3s/containerd/containerd.sock on node 1"
nsenter -t "$pid1" -m -r -w test -d /var/lib/rancher/k3s/agent/containerd/io.containerd.content.v1.content && ok "node 1 keeps its content under /var/lib/rancher/k3s/agent/containerd" \
  || bad "no content store under /var/lib/rancher/k3s/agent/containerd on node 1"
sandbox_cgroups=$(ls -d /sys/fs/cgroup/*/k8s.io/* 2>/dev/null | grep -c . || true)
[ "$sandbox_cgroups" -gt 0 ] && ok "its cgroups exist while it runs ($sandbox_cgroups)" || bad "no pod cgroups under /sys/fs/cgroup/*/k8s.io"

if "$SRC/scripts/lab" down "$dir"; then ok "scripts/lab down exits 0"; else bad "scripts/lab down failed"; fi
downed=1

[ ! -e "$dir" ] && ok "the lab directory is removed" || bad "$dir still exists"
# processes whose command line names the lab directory (this shell's own short-lived helpers
# excluded: a match must still be there a moment later)
left=""
for f in $(grep -laF -- "$dir" /proc/[0-9]*/cmdline 2>/dev/null || true); do
  pid=${f#/proc/}; pid=${pid%/cmdline}
  [ "$pid" = $$ ] && continue
  sleep 0.1
  cmd=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
  [ -n "$cmd" ] && left="$left [$pid] $cmd"
done
[ -z "$left" ] && ok "no process of the lab is left" || bad "processes left:$left"
for cid in $cids; do
  [ -z "$(pgrep -f "containerd-shim.*k8s.io" | while read -r p; do grep -q "$cid" "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done)" ] \
    && ok "no shim of container ${cid:0:12} is left" || bad "the shim of ${cid:0:12} is still running"
done
links_after=$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort)
[ "$links_before" = "$links_after" ] && ok "no network device is left (kimlab$net and its veths are gone)" \
  || bad "network devices differ: $(comm -13 <(echo "$links_before") <(echo "$links_after") | tr '\n' ' ')"
ip route show | grep -q "^10\.214\.$net\." && bad "a route to the lab's pods is left" || ok "no route of the lab is left"
# (other tests' peers may mount and unmount meanwhile: look only at the lab's own paths)
lab_mounts=$(awk -v d="$dir" 'index($2, d)==1 || $2 ~ "^/var/lib/(kubelet|buildkit|rancher)" {print $2}' /proc/mounts)
[ -z "$lab_mounts" ] && ok "no mount of the lab is left" || bad "mounts left: $lab_mounts"
for cid in $cids; do
  [ -z "$(ls -d /sys/fs/cgroup/*/k8s.io/"$cid" 2>/dev/null)" ] && ok "the cgroups of ${cid:0:12} are removed" || bad "cgroups of $cid are left"
done
[ ! -e "/tmp/kim-lab-nets/$net" ] && ok "the network reservation is released" || bad "/tmp/kim-lab-nets/$net is left"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
