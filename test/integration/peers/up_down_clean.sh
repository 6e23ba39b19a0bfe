#!/bin/bash
# `scripts/peers up` (all peers) then `scripts/peers down` leaves nothing behind:
# no process it started (checked by the recorded PIDs and by command lines that
# mention the run directory), no containerd shim, no mount under the run
# directory, no listening port, and the directory itself is gone.
# A container is left running on purpose before `down`, so the shim and the
# overlay rootfs mount must be cleaned up by `down`.
# Exit status 0 = pass; every failed check is printed as "FAIL: ...".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

out=$(mktemp); err=$(mktemp); snap=$(mktemp -d)
trap 'rm -rf "$out" "$err" "$snap"' EXIT
t0=$(date +%s%N)
if ! "$PEERS" up >"$out" 2>"$err"; then
  cat "$err" >&2
  echo "FAIL: scripts/peers up exited non-zero" >&2
  exit 1
fi
echo "up took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
eval "$(cat "$out")"
dir=$KIM_PEERS_DIR
[ -d "$dir" ] || { echo "FAIL: KIM_PEERS_DIR=$dir is not a directory" >&2; exit 1; }
for v in KIM_TEST_CONTAINERD_SOCKET KIM_TEST_REGISTRY KIM_TEST_REGISTRY_AUTH KIM_TEST_REGISTRY_USER \
         KIM_TEST_REGISTRY_PASSWORD KIM_TEST_REGISTRY_TOKEN KIM_TEST_REGISTRY_TOKEN_REALM KIM_TEST_BUILDKIT_ADDR KIM_TEST_BUILDKIT_SOCKET KIM_TEST_BUILDKIT_TLS_DIR \
         KIM_TEST_KUBECONFIG KIM_TEST_KUBECONFIG_READONLY KIM_TEST_SEED_IMAGES; do
  [ -n "${!v:-}" ] && ok "$v=${!v}" || fail "$v not exported by up"
done
[ "$("$PEERS" env "$dir")" = "$(cat "$out")" ] && ok "env DIR repeats the exports" || fail "scripts/peers env $dir differs from up's output"
check_peers "[run]"
cp "$dir/pids" "$snap/pids"
ports=$(cat "$dir/ports")

# leave a running container behind (shim + overlay mount) for down to clean up
S=$KIM_TEST_CONTAINERD_SOCKET
img=$KIM_TEST_REGISTRY/busybox:1
if ctr -a "$S" -n kim-test images pull --plain-http "$img" >"$snap/ctr.log" 2>&1 &&
   ctr -a "$S" -n kim-test run -d --fifo-dir "$dir/containerd/fifo" --runc-root "$dir/containerd/runc" \
     "$img" leftover /bin/sleep 600 >>"$snap/ctr.log" 2>&1; then
  sleep 0.3
  shims=$(procs_referencing "$dir/containerd/containerd.sock" | while read -r p; do
    tr '\0' ' ' </proc/$p/cmdline | grep -q containerd-shim && echo "$p"; done)
  [ -n "$shims" ] && ok "a shim is running ($shims)" || fail "no containerd shim seen for the test container"
  grep -qF "$dir/" /proc/mounts && ok "the container's rootfs is mounted under $dir" || fail "no mount under $dir while a container runs"
else
  cat "$snap/ctr.log" >&2
  fail "could not start a test container in containerd"
fi

t0=$(date +%s%N)
"$PEERS" down "$dir" || fail "scripts/peers down exited non-zero"
echo "down took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check_clean "$dir" "$snap/pids" "$ports"
[ -z "${shims:-}" ] || for p in $shims; do alive "$p" && fail "shim $p still alive after down"; done

if [ "$FAILS" -ne 0 ]; then echo "up_down_clean: $FAILS check(s) FAILED" >&2; exit 1; fi
echo "up_down_clean: all checks passed"
