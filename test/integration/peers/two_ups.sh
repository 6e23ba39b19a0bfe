#!/bin/bash
# Two `scripts/peers up` started at the same moment do not collide: both become
# ready, in different directories, on different ports and sockets, each works,
# and both `down`s (also run at the same time) leave nothing behind.
# Exit status 0 = pass; every failed check is printed as "FAIL: ...".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
t0=$(date +%s%N)
"$PEERS" up >"$w/a.env" 2>"$w/a.err" & pa=$!
"$PEERS" up >"$w/b.env" 2>"$w/b.err" & pb=$!
ra=0; wait $pa || ra=$?
rb=0; wait $pb || rb=$?
echo "both ups took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
[ $ra -eq 0 ] || { cat "$w/a.err" >&2; fail "first up exited $ra"; }
[ $rb -eq 0 ] || { cat "$w/b.err" >&2; fail "second up exited $rb"; }
# shellcheck disable=SC1090
dira=$(. "$w/a.env" 2>/dev/null; echo "${KIM_PEERS_DIR:-}")
dirb=$(. "$w/b.env" 2>/dev/null; echo "${KIM_PEERS_DIR:-}")

if [ $ra -eq 0 ] && [ $rb -eq 0 ]; then
  [ "$dira" != "$dirb" ] && ok "different directories ($dira, $dirb)" || fail "both ups used $dira"
  pa_ports=$(cat "$dira/ports"); pb_ports=$(cat "$dirb/ports")
  common=$(comm -12 <(tr ' ' '\n' <<<"$pa_ports" | sort) <(tr ' ' '\n' <<<"$pb_ports" | sort))
  [ -z "$common" ] && ok "no port in common ($pa_ports / $pb_ports)" || fail "ports used by both runs: $common"
  for v in KIM_TEST_REGISTRY KIM_TEST_REGISTRY_AUTH KIM_TEST_REGISTRY_TOKEN KIM_TEST_REGISTRY_TOKEN_REALM KIM_TEST_CONTAINERD_SOCKET KIM_TEST_BUILDKIT_ADDR \
           KIM_TEST_BUILDKIT_SOCKET KIM_TEST_KUBECONFIG; do
    va=$(. "$w/a.env"; echo "${!v}"); vb=$(. "$w/b.env"; echo "${!v}")
    [ "$va" != "$vb" ] && ok "$v differs" || fail "$v is the same in both runs: $va"
  done
  ( . "$w/a.env"; check_peers "[A]"; exit $FAILS ) || FAILS=$((FAILS + $?))
  ( . "$w/b.env"; check_peers "[B]"; exit $FAILS ) || FAILS=$((FAILS + $?))
fi

for x in a b; do
  d=$([ $x = a ] && echo "$dira" || echo "$dirb")
  [ -n "$d" ] && [ -d "$d" ] && { cp "$d/pids" "$w/$x.pids"; cat "$d/ports" >"$w/$x.ports"; }
done
[ -z "$dira" ] || "$PEERS" down "$dira" >"$w/a.down" 2>&1 & da=$!
[ -z "$dirb" ] || "$PEERS" down "$dirb" >"$w/b.down" 2>&1 & db=$!
wait $da || { cat "$w/a.down" >&2; fail "down of $dira failed"; }
wait $db || { cat "$w/b.down" >&2; fail "down of $dirb failed"; }
[ -z "$dira" ] || [ ! -f "$w/a.pids" ] || check_clean "$dira" "$w/a.pids" "$(cat "$w/a.ports")"
[ -z "$dirb" ] || [ ! -f "$w/b.pids" ] || check_clean "$dirb" "$w/b.pids" "$(cat "$w/b.ports")"

if [ "$FAILS" -ne 0 ]; then echo "two_ups: $FAILS check(s) FAILED" >&2; exit 1; fi
echo "two_ups: all checks passed"
