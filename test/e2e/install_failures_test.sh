#!/bin/bash
# `kim system install` waits for the truth on a real kubelet: an agent image that cannot be
# pulled fails the install within seconds (not at --timeout) naming the container, the reason and
# --agent-image; a BuildKit image whose daemon keeps exiting fails it with CrashLoopBackOff, its
# exit code and the container's last log lines; `kim system uninstall` then cleans up, and --no-wait returns at once.
. "$(dirname "$0")/lib.sh"
unset KIM_AGENT_ADDR KIM_BUILDKIT_ADDR KIM_CONTAINERD_SOCKET
on_exit "'$KIM' system uninstall --timeout 60s"

t0=$(date +%s)
check_fails "an agent image that does not exist fails the install" \
  'container "agent": (ErrImagePull|ImagePullBackOff).*--agent-image' \
  "$KIM" system install --agent-image "$KIM_LAB_REGISTRY/no-such/kim-agent:1" --timeout 300s
took=$(( $(date +%s) - t0 ))
[ $took -lt 90 ] && ok "it failed after ${took}s, long before --timeout 300s" || bad "it took ${took}s"
check "kim system uninstall after the failed install" "$KIM" system uninstall --timeout 120s

# a "BuildKit" image whose daemon starts, says why it stops, and exits: built with kim itself
check "kim system install" "$KIM" system install --timeout 180s
ctx=$WORK/crasher
mkdir -p "$ctx"
printf 'FROM %s/busybox:1\nENTRYPOINT ["sh", "-c", "echo buildkitd stops on purpose: e2e >&2; exit 3", "--"]\n' \
  "$KIM_LAB_REGISTRY" >"$ctx/Dockerfile"
check "kim build the crashing image" "$KIM" build --progress plain -t e2e/crasher:1 "$ctx"
check "kim system uninstall" "$KIM" system uninstall --timeout 120s
t0=$(date +%s)
check_fails "a BuildKit image whose daemon keeps exiting fails the install with CrashLoopBackOff" \
  'container "buildkitd": CrashLoopBackOff' \
  "$KIM" system install --buildkit-image docker.io/e2e/crasher:1 --timeout 300s
output_has "with the exit code" 'exit code 3|exited with 3|exitCode.?3|code 3'
output_has "and the container's last log line" 'buildkitd stops on purpose: e2e'
took=$(( $(date +%s) - t0 ))
[ $took -lt 120 ] && ok "it failed after ${took}s, long before --timeout 300s" || bad "it took ${took}s"

t0=$(date +%s)
check "kim system uninstall --no-wait" "$KIM" system uninstall --no-wait
took=$(( $(date +%s) - t0 ))
[ $took -lt 15 ] && ok "returned after ${took}s" || bad "--no-wait took ${took}s"
check "the node label is gone at once" sh -c "! '$KUBECTL' get nodes -l node-role.kubernetes.io/builder --no-headers 2>/dev/null | grep -q ."
gone() { for _ in $(seq 120); do kubectl get namespace kube-image >/dev/null 2>&1 || return 0; sleep 0.5; done; return 1; }
check "the namespace goes away by itself" gone
finish
