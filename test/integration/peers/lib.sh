# Shared helpers for the scripts/peers shell tests (sourced, not run).
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
PEERS=$REPO/scripts/peers
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
alive() {  # running and not a zombie
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# procs_referencing DIR: live PIDs whose command line mentions DIR
procs_referencing() {
  local f pid
  for f in $(grep -laF -- "$1" /proc/[0-9]*/cmdline 2>/dev/null); do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
    alive "$pid" && echo "$pid"
  done
  return 0
}
# check_clean DIR PIDFILE_COPY PORTS: everything `up` started for DIR is gone
check_clean() {
  local dir=$1 pids=$2 ports=$3 name pid p left m
  while read -r name pid; do
    alive "$pid" && fail "$name (pid $pid) of $dir still running after down"
  done <"$pids"
  left=$(procs_referencing "$dir")
  [ -z "$left" ] || fail "processes still referencing $dir after down: $(for p in $left; do tr '\0' ' ' </proc/$p/cmdline; echo; done)"
  m=$(grep -F "$dir" /proc/mounts || true)
  [ -z "$m" ] || fail "mounts left under $dir: $m"
  if command -v findmnt >/dev/null; then
    m=$(findmnt -rn -o TARGET | grep -F "$dir" || true)
    [ -z "$m" ] || fail "findmnt shows mounts under $dir: $m"
  fi
  [ ! -e "$dir" ] || fail "$dir still exists after down"
  for p in $ports; do
    port_open "$p" && fail "port 127.0.0.1:$p still accepts connections after down"
  done
  return 0
}
# check_peers: the KIM_TEST_* peers of the current environment answer
check_peers() {
  local tag=$1 code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$KIM_TEST_REGISTRY/v2/busybox/tags/list")
  [ "$code" = 200 ] && ok "$tag registry has busybox" || fail "$tag registry $KIM_TEST_REGISTRY: busybox tags -> HTTP $code"
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$KIM_TEST_REGISTRY_AUTH/v2/")
  [ "$code" = 401 ] && ok "$tag auth registry wants credentials" || fail "$tag auth registry without credentials -> HTTP $code (want 401)"
  code=$(curl -s -o /dev/null -w '%{http_code}' -u "$KIM_TEST_REGISTRY_USER:$KIM_TEST_REGISTRY_PASSWORD" "http://$KIM_TEST_REGISTRY_AUTH/v2/hello/tags/list")
  [ "$code" = 200 ] && ok "$tag auth registry accepts the credentials" || fail "$tag auth registry with credentials -> HTTP $code"
  local hdr tok
  hdr=$(curl -s -D - -o /dev/null "http://$KIM_TEST_REGISTRY_TOKEN/v2/" | tr -d '\r' | grep -i '^www-authenticate:' || true)
  case $hdr in *Bearer*realm=\"$KIM_TEST_REGISTRY_TOKEN_REALM\"*) ok "$tag token registry asks for a Bearer token" ;;
    *) fail "$tag token registry $KIM_TEST_REGISTRY_TOKEN: no Bearer challenge for realm $KIM_TEST_REGISTRY_TOKEN_REALM (got: $hdr)" ;; esac
  code=$(curl -s -o /dev/null -w '%{http_code}' "$KIM_TEST_REGISTRY_TOKEN_REALM?service=kim-test-registry&scope=repository:busybox:pull")
  [ "$code" = 401 ] && ok "$tag token server refuses anonymous" || fail "$tag token server anonymous -> HTTP $code (want 401)"
  tok=$(curl -s -u "$KIM_TEST_REGISTRY_USER:$KIM_TEST_REGISTRY_PASSWORD" \
    "$KIM_TEST_REGISTRY_TOKEN_REALM?service=kim-test-registry&scope=repository:busybox:pull" | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "http://$KIM_TEST_REGISTRY_TOKEN/v2/busybox/tags/list")
  [ "$code" = 200 ] && ok "$tag token registry accepts an issued token" || fail "$tag token registry with a token -> HTTP $code"
  ctr -a "$KIM_TEST_CONTAINERD_SOCKET" plugins ls 2>/dev/null | awk '$2=="cri" && $4=="ok"{f=1} END{exit !f}' \
    && ok "$tag containerd CRI plugin ok" || fail "$tag containerd at $KIM_TEST_CONTAINERD_SOCKET: CRI plugin not ok"
  local T=$KIM_TEST_BUILDKIT_TLS_DIR
  "$KIM_TEST_BUILDCTL" --addr "$KIM_TEST_BUILDKIT_ADDR" --tlscacert "$T/ca.pem" --tlscert "$T/cert.pem" --tlskey "$T/key.pem" \
    debug workers >/dev/null 2>&1 && ok "$tag buildkitd over mTLS" || fail "$tag buildkitd $KIM_TEST_BUILDKIT_ADDR over mTLS"
  "$KIM_TEST_BUILDCTL" --addr "$KIM_TEST_BUILDKIT_ADDR" --tlscacert "$T/ca.pem" debug workers >/dev/null 2>&1 \
    && fail "$tag buildkitd accepted a client without a certificate" || ok "$tag buildkitd refuses a client without a certificate"
  "$KIM_TEST_BUILDCTL" --addr "$KIM_TEST_BUILDKIT_SOCKET" debug workers >/dev/null 2>&1 \
    && ok "$tag buildkitd over unix socket" || fail "$tag buildkitd $KIM_TEST_BUILDKIT_SOCKET"
  kube_get() {  # kube_get KUBECONFIG PATH -> HTTP code (certs taken from the kubeconfig)
    local kc=$1 d; d=$(mktemp -d)
    sed -n 's/^ *certificate-authority-data: //p' "$kc" | base64 -d >"$d/ca"
    sed -n 's/^ *client-certificate-data: //p' "$kc" | base64 -d >"$d/cert"
    sed -n 's/^ *client-key-data: //p' "$kc" | base64 -d >"$d/key"
    local server; server=$(sed -n 's/^ *server: //p' "$kc")
    curl -s -o /dev/null -w '%{http_code}' --cacert "$d/ca" --cert "$d/cert" --key "$d/key" "$server$2"
    rm -rf "$d"
  }
  code=$(kube_get "$KIM_TEST_KUBECONFIG" /api/v1/namespaces/kube-system/secrets)
  [ "$code" = 200 ] && ok "$tag kube-apiserver admin can list secrets" || fail "$tag kube-apiserver admin list secrets -> HTTP $code"
  code=$(kube_get "$KIM_TEST_KUBECONFIG_READONLY" /api/v1/namespaces/kim-readonly/configmaps)
  [ "$code" = 200 ] && ok "$tag readonly user can list in kim-readonly" || fail "$tag readonly list configmaps in kim-readonly -> HTTP $code"
  code=$(kube_get "$KIM_TEST_KUBECONFIG_READONLY" /api/v1/namespaces/default/configmaps)
  [ "$code" = 403 ] && ok "$tag readonly user is refused outside kim-readonly" || fail "$tag readonly list configmaps in default -> HTTP $code (want 403)"
}
