#!/bin/bash
# The lab's API server dies while `kim system install` waits for the builder on the real kubelet:
# back within seconds, the install rides it out and completes once the pod is ready; gone past
# --timeout, the install fails by the timeout with an error that says what to do, and once the
# API server is back the next install works. (scripts/lab kill|restart kube-apiserver.)
. "$(dirname "$0")/lib.sh"
unset KIM_AGENT_ADDR KIM_BUILDKIT_ADDR KIM_CONTAINERD_SOCKET
LAB=$(cd "$(dirname "$0")/../../scripts" && pwd)/lab
# Whatever happens, the next test finds an API server.
on_exit "kubectl get --raw /readyz || '$LAB' restart kube-apiserver '$KIM_LAB_DIR'"
log=$WORK/install.log

# start_install TIMEOUT: `kim system install --timeout TIMEOUT` in the background (PID in
# $install), once the previous install is gone; returns when it waits for the builder's pod.
start_install() {
  "$KIM" system uninstall --timeout 120s >/dev/null 2>&1 || true
  "$KIM" system install --timeout "$1" >"$log" 2>&1 &
  install=$!
  for _ in $(seq 600); do
    grep -q "Waiting for the builder on node" "$log" && return 0
    kill -0 "$install" 2>/dev/null || break
    sleep 0.1
  done
  cat "$log"
  return 1
}
# finish_install: waits for the background install; its exit code in $code, and $WORK/last its
# output (for output_has).
finish_install() {
  code=0
  wait "$install" || code=$?
  cp "$log" "$WORK/last"
}

# 1. Killed for 3 s during the wait.
check "kim system install waits for the builder" start_install 300s
check "kill the API server during the wait" "$LAB" kill kube-apiserver "$KIM_LAB_DIR"
sleep 3
check "start the API server again 3 s later" "$LAB" restart kube-apiserver "$KIM_LAB_DIR"
back=$(date +%s)
finish_install
took=$(( $(date +%s) - back ))
[ "$code" -eq 0 ] && ok "the install completed ${took}s after the API server was back" \
  || { bad "the install failed (exit $code):"; sed 's/^/    /' "$log" | tail -n 30; }
[ "$took" -lt 90 ] && ok "within 90 s of the API server's return" || bad "it took ${took}s"
output_has "it said it was waiting for the API server" "Waiting for the API server to answer again"
output_has "and that the API server answered again" "The API server answers again"
output_has "and that the builder is ready" "Builder ready"
check "kim system info answers after the restart" "$KIM" system info
check "kim images goes through the builder's agent" "$KIM" images

# 2. Gone for longer than --timeout.
check "kim system install --timeout 20s waits for the builder" start_install 20s
started=$(date +%s)
check "kill the API server for good" "$LAB" kill kube-apiserver "$KIM_LAB_DIR"
finish_install
took=$(( $(date +%s) - started ))
[ "$code" -eq 1 ] && ok "the install failed (exit 1)" || bad "the install exited $code"
[ "$took" -lt 30 ] && ok "by its --timeout 20s (+ the last request's 10 s): after ${took}s" \
  || bad "it failed only after ${took}s"
output_has "the error names the lost API server" "Error: lost the API server while waiting for the builder"
output_has "and says what to do" "run kim system install again"
check "start the API server again" "$LAB" restart kube-apiserver "$KIM_LAB_DIR"
check "the next kim system install completes" "$KIM" system install --timeout 180s
output_has "with the builder ready" "Builder ready"
check "kim images works" "$KIM" images
finish
