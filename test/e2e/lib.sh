#!/bin/bash
# Shared by the end-to-end tests (sourced): the lab's variables, assertions that count, and
# helpers for pods and for looking inside a node. Each test runs real commands against the lab
# that scripts/lab made (ctest fixture lab:up) and ends with "N passed, N failed".
set -euo pipefail
: "${KIM_LAB_ENV:?KIM_LAB_ENV is not set (run through ctest, or: export KIM_LAB_ENV=FILE with scripts/lab up > FILE)}"
[ -s "$KIM_LAB_ENV" ] || { echo "e2e: $KIM_LAB_ENV is empty: the lab did not come up (see the lab:up test's output)"; exit 1; }
# shellcheck source=/dev/null
. "$KIM_LAB_ENV"
: "${KIM:?KIM (the kim binary) is not set}"
KUBECTL=$KIM_LAB_KUBECTL
WORK=$(mktemp -d)
trap 'e2e_cleanup' EXIT
E2E_CLEANUPS=()
e2e_cleanup() { local c; for c in "${E2E_CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1 || true; done; rm -rf "$WORK"; }
on_exit() { E2E_CLEANUPS+=("$*"); }
# Nothing of the user's Docker config is used: an empty one per test.
export DOCKER_CONFIG=$WORK/docker
mkdir -p "$DOCKER_CONFIG"

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
# check DESCRIPTION CMD...: runs CMD; passes when it exits 0. Output is kept in $WORK/last.
check() {
  local what=$1; shift
  if "$@" >"$WORK/last" 2>&1; then ok "$what"; else bad "$what (exit $?):"; sed 's/^/    /' "$WORK/last" | tail -n 40; fi
}
# check_fails DESCRIPTION PATTERN CMD...: CMD must fail and its output match PATTERN (grep -E).
check_fails() {
  local what=$1 pattern=$2 rc=0; shift 2
  "$@" >"$WORK/last" 2>&1 || rc=$?
  if [ $rc -ne 0 ] && grep -qE -- "$pattern" "$WORK/last"; then ok "$what"
  else bad "$what (exit $rc, wanted a failure matching /$pattern/):"; sed 's/^/    /' "$WORK/last" | tail -n 40; fi
}
# output_has DESCRIPTION PATTERN: the last check's output matches PATTERN.
output_has() {
  if grep -qE -- "$2" "$WORK/last"; then ok "$1"; else bad "$1 (no /$2/ in):"; sed 's/^/    /' "$WORK/last" | tail -n 40; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }

kubectl() { "$KUBECTL" --request-timeout=20s "$@"; }
# run_pod NAME IMAGE PULL_POLICY [hostNetwork [NODE]]: a Pod that runs its image's command once
# (on NODE when given); waits for it to end (120 s) and fails unless it Succeeded.
run_pod() {
  local name=$1 image=$2 policy=$3 host=${4:-false} node=${5:-} phase=""
  kubectl delete pod "$name" --ignore-not-found --wait=true >/dev/null
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $name}
spec:
  restartPolicy: Never
  hostNetwork: $host
  ${node:+nodeName: $node}
  automountServiceAccountToken: false
  containers: [{name: main, image: "$image", imagePullPolicy: $policy}]
YAML
  for _ in $(seq 240); do
    phase=$(kubectl get pod "$name" -o jsonpath='{.status.phase}' 2>/dev/null || true)
    case $phase in Succeeded) return 0 ;; Failed) break ;; esac
    sleep 0.5
  done
  echo "pod $name ended in phase '${phase:-unknown}':"
  kubectl get pod "$name" -o jsonpath='{.status.containerStatuses}' ; echo
  kubectl describe pod "$name" | tail -n 15
  return 1
}
# in_node N CMD...: runs CMD inside lab node N's mount and network namespaces (as a node shell).
# -r -w: the node's own root and directory (where the lab runs under a chroot, entering the mount
# namespace alone would land in the machine's real root).
in_node() { local n=$1; shift; local pids=($KIM_LAB_NODE_PIDS); nsenter -t "${pids[$n]}" -m -n -r -w -- "$@"; }
node_ctr() { local n=$1; shift; in_node "$n" ctr -n k8s.io "$@"; }
