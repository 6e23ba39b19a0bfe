#!/bin/bash
# Shell helpers shared by scripts/peers and scripts/lab (sourced, not run): free ports, detached
# daemons with their PIDs and logs, readiness waits, a small openssl PKI. Each expects $P (the
# run's directory, with logs/, pids and pki/), $ROOT (where port reservations live), $PY, and
# TOOL (the name errors start with).

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ------------------------------------------------------------------ ports
# Picks N distinct free TCP ports on 127.0.0.1.  Each port is also reserved in
# $ROOT/kim-peers-ports/<port> (mkdir is atomic) so that a concurrent `up`, which
# may probe before our daemons listen, never picks the same one.  Reservations
# whose owner directory is gone are stale and reused.
free_ports() {
  "$PY" - "$1" "$ROOT/kim-peers-ports" "$P" <<'PYEOF'
import os, socket, sys
n, resdir, owner = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(resdir, exist_ok=True)
held, out = [], []
for _ in range(200):
    if len(out) == n:
        break
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    held.append(s)
    port = s.getsockname()[1]
    r = os.path.join(resdir, str(port))
    try:
        os.mkdir(r)
    except FileExistsError:
        try:
            with open(os.path.join(r, "owner")) as f:
                other = f.read().strip()
        except OSError:
            continue          # being created right now by someone else
        if other and os.path.isdir(other):
            continue          # live reservation
        try:
            os.rename(r, r + ".stale.%d" % os.getpid())
            import shutil; shutil.rmtree(r + ".stale.%d" % os.getpid(), ignore_errors=True)
            os.mkdir(r)
        except OSError:
            continue
    with open(os.path.join(r, "owner"), "w") as f:
        f.write(owner + "\n")
    out.append(port)
if len(out) != n:
    sys.exit("could not find %d free ports" % n)
print(" ".join(map(str, out)))
PYEOF
}
release_ports() {
  local d=$1 port
  [ -f "$d/ports" ] || return 0
  for port in $(cat "$d/ports"); do
    if [ "$(cat "$ROOT/kim-peers-ports/$port/owner" 2>/dev/null)" = "$d" ]; then
      rm -rf "$ROOT/kim-peers-ports/$port"
    fi
  done
}

# ------------------------------------------------------------------ process helpers
# start NAME CMD...: runs CMD detached (own session, stdio to $P/logs/NAME.log), records its PID.
# Its command line goes to $P/cmdlines/NAME, so that `scripts/peers restart` can start it again.
start() {
  local name=$1; shift
  mkdir -p "$P/cmdlines"
  printf '%q ' "$@" >"$P/cmdlines/$name"
  setsid "$@" </dev/null >>"$P/logs/$name.log" 2>&1 9>&- &
  local pid=$!
  echo "$name $pid" >>"$P/pids"
  eval "PID_${name//-/_}=$pid"
}
pid_of() { awk -v n="$1" '$1==n{p=$2} END{print p}' "$P/pids" 2>/dev/null; }
alive() {  # alive PID: running and not a zombie
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
fail_peer() {
  local name=$1 msg=$2
  echo "${TOOL:-peers}: ERROR: $name did not start: $msg" >&2
  if [ -f "$P/logs/$name.log" ]; then
    echo "${TOOL:-peers}: ---- last lines of $P/logs/$name.log ----" >&2
    tail -n 25 "$P/logs/$name.log" >&2
    echo "${TOOL:-peers}: ----" >&2
  fi
  exit 1
}
# wait_for NAME TIMEOUT_S CMD...: polls CMD until it succeeds, the peer dies, or time runs out.
wait_for() {
  local name=$1 timeout=$2; shift 2
  local pid; pid=$(pid_of "$name")
  local deadline=$(( $(now_ms) + timeout * 1000 ))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [ -n "$pid" ] && ! alive "$pid"; then fail_peer "$name" "process $pid exited"; fi
    if [ "$(now_ms)" -gt "$deadline" ]; then fail_peer "$name" "not ready after ${timeout}s"; fi
    sleep 0.05
  done
}

# ------------------------------------------------------------------ PKI
# All keys are ECDSA P-256 except the service-account signing key (RSA).
pki_ca() {  # pki_ca DIR CN
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$1/ca-key.pem" -out "$1/ca.pem" -days 3650 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
pki_cert() {  # pki_cert CADIR OUTPREFIX SUBJECT server|client [SAN]
  local ca=$1 out=$2 subj=$3 kind=$4 san=${5:-}
  local ext
  ext=$(mktemp "$P/pki/ext.XXXXXX")
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ "$kind" = server ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; else echo "extendedKeyUsage=clientAuth"; fi
    [ -z "$san" ] || echo "subjectAltName=$san"
  } >"$ext"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$out-key.pem" -out "$out.csr" -subj "$subj" 2>/dev/null
  openssl x509 -req -in "$out.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" -CAcreateserial \
    -out "$out.pem" -days 3650 -extfile "$ext" 2>/dev/null
  rm -f "$out.csr" "$ext"
}

stop_pids() {  # stop_pids PID...: SIGTERM, wait up to 10 s, then SIGKILL
  local p left i
  for p in "$@"; do alive "$p" && kill -TERM "$p" 2>/dev/null || true; done
  for i in $(seq 1 200); do
    left=""
    for p in "$@"; do alive "$p" && left="$left $p"; done
    [ -n "$left" ] || return 0
    sleep 0.05
  done
  for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
  sleep 0.1
}

# kubeconfig FILE SERVER PKI_DIR CERT_STEM CLUSTER USER NAMESPACE: a kubeconfig for USER of
# cluster CLUSTER at SERVER, with PKI_DIR/ca.pem and the client certificate PKI_DIR/CERT_STEM.pem
# (and -key.pem) embedded, so the file can be copied anywhere.
kubeconfig() {
  local file=$1 server=$2 pki=$3 stem=$4 cluster=$5 user=$6 ns=$7
  cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: $cluster
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$pki/ca.pem")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$pki/$stem.pem")
    client-key-data: $(base64 -w0 "$pki/$stem-key.pem")
contexts:
- name: $user@$cluster
  context:
    cluster: $cluster
    user: $user
    namespace: $ns
current-context: $user@$cluster
YAML
}
