#!/bin/bash
# scripts/lab up, a running Pod, then scripts/lab down: nothing is left behind — no process of
# the lab, no mount under its directory or in the node's paths, no network device, no container
# or cgroup, no reservation, no directory.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
links_before=$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort)

env_lines=$("$SRC/scripts/lab" up) || { echo "FAIL: scripts/lab up failed"; echo "0 passed, 1 failed"; exit 1; }
eval "$env_lines"
dir=$KIM_LAB_DIR
downed=0
trap '[ $downed = 1 ] || "$SRC/scripts/lab" down "$dir" >/dev/null 2>&1 || true' EXIT   # never leave it up
net=$(cat "$dir/net")
kubectl=$KIM_LAB_KUBECTL
"$kubectl" run e2e-sleeper --image="$KIM_LAB_REGISTRY/busybox:1" --restart=Never -- sleep 3600 >/dev/null
if "$kubectl" wait --for=condition=Ready pod/e2e-sleeper --timeout=90s >/dev/null; then ok "a pod runs on the lab"; else bad "the pod did not start"; fi
cid=$("$kubectl" get pod e2e-sleeper -o jsonpath='{.status.containerStatuses[0].containerID}' || true); cid=${cid#containerd://}
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
[ -z "$(pgrep -f "containerd-shim.*k8s.io" | while read -r p; do grep -q "$cid" "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done)" ] \
  && ok "no shim of the pod is left" || bad "the pod's shim is still running"
links_after=$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort)
[ "$links_before" = "$links_after" ] && ok "no network device is left (kimlab$net and its veths are gone)" \
  || bad "network devices differ: $(comm -13 <(echo "$links_before") <(echo "$links_after") | tr '\n' ' ')"
ip route show | grep -q "^10\.214\.$net\." && bad "a route to the lab's pods is left" || ok "no route of the lab is left"
# (other tests' peers may mount and unmount meanwhile: look only at the lab's own paths)
lab_mounts=$(awk -v d="$dir" 'index($2, d)==1 || $2 ~ "^/var/lib/(kubelet|buildkit)" {print $2}' /proc/mounts)
[ -z "$lab_mounts" ] && ok "no mount of the lab is left" || bad "mounts left: $lab_mounts"
[ -z "$(ls -d /sys/fs/cgroup/*/k8s.io/"$cid" 2>/dev/null)" ] && ok "the pod's container cgroups are removed" || bad "cgroups of $cid are left"
[ ! -e "/tmp/kim-lab-nets/$net" ] && ok "the network reservation is released" || bad "/tmp/kim-lab-nets/$net is left"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
