#!/usr/bin/env bash
# Tests the scripts that install Debian packages (scripts/setup, scripts/peers.d/install-packages,
# scripts/lab's list) against a fake dpkg-query and apt-get on PATH: on a machine where nothing is
# installed yet they must ask apt-get for every package of their list, and every failure must
# exit non-zero with a message. This is the test that would have caught issue 10 (an install step
# that exited silently, before installing anything, when dpkg-query reported missing packages).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# Fakes. $W/state/installed lists "installed" packages; apt-get appends its arguments to
# $W/state/apt-calls and, in mode FAKE_APT=works, marks what it installs as installed.
mkdir -p "$W/bin" "$W/state"
cat >"$W/bin/dpkg-query" <<'FAKE'
#!/bin/bash
# like dpkg-query -W -f='${Package} ${Status}\n' PKG...: unknown packages -> stderr + exit 1
rc=0
for a in "$@"; do
  case $a in -*) continue ;; esac
  if grep -qx -- "$a" "$FAKE_STATE/installed" 2>/dev/null; then echo "$a install ok installed"
  else echo "dpkg-query: no packages found matching $a" >&2; rc=1; fi
done
exit $rc
FAKE
cat >"$W/bin/apt-get" <<'FAKE'
#!/bin/bash
echo "$*" >>"$FAKE_STATE/apt-calls"
case ${FAKE_APT:-works} in
  fails) [ "$1" = update ] && exit 0; exit 100 ;;
  offline) exit 100 ;;
  no-op) exit 0 ;;
  needs-update)
    [ "$1" = update ] && { touch "$FAKE_STATE/updated"; exit 0; }
    [ -f "$FAKE_STATE/updated" ] || exit 100 ;;
esac
[ "$1" = update ] && exit 0
for a in "$@"; do case $a in -*|install) ;; *) echo "$a" >>"$FAKE_STATE/installed" ;; esac; done
FAKE
chmod +x "$W/bin/"*

list_of() { grep -v '^[[:space:]]*\(#\|$\)' "$1" | awk '{print $1}'; }
reset() { rm -f "$W/state/"*; : >"$W/state/installed"; }
run() {  # run MODE SCRIPT...: runs it with the fakes first on PATH; sets rc, out
  rc=0
  out=$(FAKE_STATE=$W/state FAKE_APT=$1 PATH="$W/bin:$PATH" "${@:2}" 2>&1) || rc=$?
}
asked_for_all() {  # asked_for_all LIST: every package of LIST was passed to one 'apt-get install'
  local p missing=""
  for p in $(list_of "$1"); do
    grep -E "(^| )install( |$)" "$W/state/apt-calls" | grep -qw -- "$p" || missing="$missing $p"
  done
  [ -z "$missing" ] || { echo "  not asked for:$missing"; return 1; }
}

check_installer() {  # check_installer NAME LIST SCRIPT...
  local name=$1 list=$2; shift 2
  [ -n "$(list_of "$list")" ] || { bad "$name: $list is empty"; return; }

  reset; run works "$@"
  if [ $rc -eq 0 ] && asked_for_all "$list"; then ok "$name: nothing installed -> asks apt-get for every package of $(basename "$list")"
  else bad "$name: nothing installed (rc=$rc): $out"; fi

  reset; list_of "$list" >"$W/state/installed"; run works "$@"
  if [ $rc -eq 0 ] && [ ! -e "$W/state/apt-calls" ]; then ok "$name: everything installed -> apt-get is not called"
  else bad "$name: everything installed (rc=$rc, calls: $(cat "$W/state/apt-calls" 2>/dev/null))"; fi

  reset; run needs-update "$@"
  if [ $rc -eq 0 ] && grep -q '^update' "$W/state/apt-calls" && asked_for_all "$list"; then
    ok "$name: no package lists yet -> apt-get update, then installs"
  else bad "$name: needs-update (rc=$rc): $out"; fi

  reset; run fails "$@"
  if [ $rc -ne 0 ] && grep -q 'apt-get install failed' <<<"$out"; then ok "$name: apt-get fails -> exits $rc and says so"
  else bad "$name: apt-get fails (rc=$rc): $out"; fi

  reset; run offline "$@"
  if [ $rc -ne 0 ] && grep -q 'apt-get update failed' <<<"$out"; then ok "$name: apt-get update fails too -> exits $rc and says so"
  else bad "$name: offline (rc=$rc): $out"; fi

  reset; run no-op "$@"
  if [ $rc -ne 0 ] && grep -q 'still not installed' <<<"$out"; then ok "$name: apt-get exits 0 but installs nothing -> exits $rc and names them"
  else bad "$name: apt-get no-op (rc=$rc): $out"; fi
}

check_installer "scripts/setup" "$SRC/scripts/packages/build.txt" "$SRC/scripts/setup"
check_installer "scripts/peers.d/install-packages" "$SRC/scripts/packages/peers.txt" "$SRC/scripts/peers.d/install-packages"
for list in "$SRC"/scripts/packages/*.txt; do
  case $(basename "$list") in build.txt|peers.txt) continue ;; esac
  check_installer "install-packages $(basename "$list")" "$list" "$SRC/scripts/install-packages" "$list"
done

run works "$SRC/scripts/install-packages" "$W/no-such-list.txt"
if [ $rc -ne 0 ] && grep -q 'cannot read package list' <<<"$out"; then ok "a missing list is an error"; else bad "missing list (rc=$rc): $out"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
