#!/bin/bash
# kim reaches its builder through the API server when the node addresses do not route (issue #12):
# from a "client" network namespace that reaches only the API server (a relay of its loopback
# port) and silently drops everything else (a default route into a NOARP veth: a connect to a
# node address times out, as on a VPN'd laptop), `kim images`, `kim build` and `kim push` work
# with --tunnel always and --tunnel auto (which falls back to the tunnel and remembers it in
# $XDG_CACHE_HOME/kim/routes.json), and the built image runs in a Pod; --tunnel never fails fast
# naming the unroutable address. On the host, auto goes direct. A user with every discovery read
# but not pods/portforward is refused naming that rule, and works once it is granted. A builder
# pod deleted and recreated by its DaemonSet is found again by the next command. A ServiceAccount
# bound only to the kim-user roles (as docs/security.md tells an admin) lists, builds and reads
# info through the tunnel, and cannot read the CA key Secret.
. "$(dirname "$0")/lib.sh"
unset KIM_AGENT_ADDR KIM_BUILDKIT_ADDR KIM_CONTAINERD_SOCKET KIM_TUNNEL
NETNS_FORWARD=$(cd "$(dirname "$0")/../../scripts/lab.d" && pwd)/netns-forward
NS=kube-image
BUILDER_SELECTOR=app.kubernetes.io/name=kim,app.kubernetes.io/component=builder
on_exit "'$KIM' system uninstall --timeout 60s"

# ---------------------------------------------------------------- the client network namespace
api_server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}' || true)
api_port=${api_server##*:}
api_port=${api_port%%/*}
case $api_server in
  https://127.0.0.1:*) ;;
  *) bad "the lab's API server is not at https://127.0.0.1:PORT (KUBECONFIG=$KUBECONFIG says '$api_server')"; finish || exit 1 ;;
esac
CLIENT_NS=$WORK/client.netns
RELAY_PID=""
in_client() { nsenter --net="$CLIENT_NS" -- "$@"; }
client_netns_down() {
  [ -z "$RELAY_PID" ] || { kill "$RELAY_PID" 2>/dev/null || true; wait "$RELAY_PID" 2>/dev/null || true; }
  RELAY_PID=""
  if [ -e "$CLIENT_NS" ]; then
    umount "$CLIENT_NS" 2>/dev/null || umount -l "$CLIENT_NS" 2>/dev/null || echo "could not unmount $CLIENT_NS"
    rm -f "$CLIENT_NS"
  fi
}
on_exit client_netns_down
client_netns_up() {
  : >"$CLIENT_NS" || { echo "cannot create $CLIENT_NS"; return 1; }
  unshare --net="$CLIENT_NS" true || { echo "unshare --net=$CLIENT_NS failed"; return 1; }
  in_client ip link set lo up || { echo "lo up in the client netns failed"; return 1; }
  # Everything but loopback goes into kimc0 and is lost: NOARP, so no neighbour resolution
  # fails (that would be "no route to host" after 3 s); its peer kimc1 drops the frames (they
  # are addressed to kimc0's own MAC, and forwarding is off in a new netns). No dummy module.
  in_client ip link add kimc0 type veth peer name kimc1 || { echo "veth pair in the client netns failed"; return 1; }
  in_client ip link set kimc0 arp off || { echo "arp off on kimc0 failed"; return 1; }
  in_client ip addr add 192.0.2.1/24 dev kimc0 || { echo "address on kimc0 failed"; return 1; }
  in_client ip link set kimc1 up || { echo "kimc1 up failed"; return 1; }
  in_client ip link set kimc0 up || { echo "kimc0 up failed"; return 1; }
  in_client ip route add default dev kimc0 || { echo "default route in the client netns failed"; return 1; }
  # the API server at the same 127.0.0.1:PORT as on the host, and nothing else
  python3 "$NETNS_FORWARD" --netns "$CLIENT_NS" "$api_port" >"$WORK/relay.log" 2>&1 &
  RELAY_PID=$!
  for _ in $(seq 100); do
    grep -q serving "$WORK/relay.log" && return 0
    kill -0 "$RELAY_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "netns-forward for port $api_port did not start serving in 10 s:"; cat "$WORK/relay.log"
  return 1
}
if client_netns_up >"$WORK/last" 2>&1; then ok "a client netns reaching only the API server (port $api_port)"
else bad "setting up the client netns:"; sed 's/^/    /' "$WORK/last"; finish || exit 1; fi

# connect_outcome HOST PORT: prints connected, timeout or the error of a 3 s TCP connect.
cat >"$WORK/connect.py" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except socket.timeout:
    print("timeout")
except OSError as e:
    print(f"error: {e}")
PY
connect_outcome() { python3 "$WORK/connect.py" "$@" 2>&1 || true; }
check "kubectl get nodes works from the client netns (through the relay)" in_client "$KUBECTL" --request-timeout=20s get nodes

check "kim system install" "$KIM" system install --timeout 180s
node_ip=${KIM_LAB_NODE_IPS%% *}
agent_port=$(kubectl -n "$NS" get service builder -o jsonpath='{.spec.ports[?(@.name=="kim")].port}' || true)
buildkit_port=$(kubectl -n "$NS" get service builder -o jsonpath='{.spec.ports[?(@.name=="buildkit")].port}' || true)
[ -n "$agent_port" ] && [ -n "$buildkit_port" ] && ok "the builder service has ports kim=$agent_port buildkit=$buildkit_port" \
  || bad "cannot read the builder service's ports (kim='$agent_port' buildkit='$buildkit_port')"
outcome=$(connect_outcome "$node_ip" "${agent_port:-1233}")
[ "$outcome" = connected ] && ok "from the host, $node_ip:${agent_port:-1233} accepts connections" \
  || bad "from the host, $node_ip:${agent_port:-1233}: $outcome"
outcome=$(in_client python3 "$WORK/connect.py" "$node_ip" "${agent_port:-1233}" 2>&1 || true)
[ "$outcome" = timeout ] && ok "from the client netns, a connect to $node_ip:${agent_port:-1233} times out (dropped, not refused)" \
  || bad "from the client netns, a connect to $node_ip:${agent_port:-1233} gave '$outcome', not a timeout"

builder_pods() { kubectl -n "$NS" get pods -l "$BUILDER_SELECTOR" -o jsonpath='{.items[*].metadata.name}'; }
pod=$(builder_pods || true)
pod=${pod%% *}
# pf_agent [KUBECONFIG]: kubectl port-forward from the client netns to the agent; passes when its
# TLS server answers through the forward (its certificate)
pf_agent() {
  local pf_pid local_port="" rc=1
  in_client env KUBECONFIG="${1:-$KUBECONFIG}" "$KUBECTL" -n "$NS" port-forward "pod/$pod" ":${agent_port:-1233}" >"$WORK/pf.log" 2>&1 &
  pf_pid=$!
  for _ in $(seq 100); do
    local_port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$WORK/pf.log" | head -n 1 || true)
    [ -n "$local_port" ] && break
    kill -0 "$pf_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$local_port" ]; then
    echo "kubectl port-forward did not start:"; cat "$WORK/pf.log"
  else
    in_client timeout 15 openssl s_client -connect "127.0.0.1:$local_port" </dev/null >"$WORK/s_client.log" 2>&1 || true
    if grep -q 'BEGIN CERTIFICATE' "$WORK/s_client.log"; then rc=0
    else echo "no server certificate through the forward:"; cat "$WORK/s_client.log" "$WORK/pf.log"; fi
  fi
  kill "$pf_pid" 2>/dev/null || true
  wait "$pf_pid" 2>/dev/null || true
  return $rc
}
check "kubectl port-forward from the client netns reaches the agent's TLS server (pod ${pod:-?})" pf_agent

# ---------------------------------------------------------------- kim from the client netns
mkdir -p "$WORK/cache" "$WORK/host-cache" "$WORK/ro-cache" "$WORK/env-cache" "$WORK/ku-cache"
client_kim() { in_client env XDG_CACHE_HOME="$WORK/cache" "$KIM" "$@"; }
routes=$WORK/cache/kim/routes.json

check "kim images --tunnel always from the client netns" client_kim images --tunnel always
check "kim images --tunnel auto from the client netns" client_kim --debug images --tunnel auto
output_has "auto's debug output says it used the tunnel" 'route: tunnel'
check "auto remembered the route in \$XDG_CACHE_HOME/kim/routes.json" test -s "$routes"
check "and it names the tunnel" grep -q tunnel "$routes"
check "a second kim images --tunnel auto" client_kim --debug images --tunnel auto
output_has "uses the tunnel again" 'route: tunnel'
output_has "from the cache, without probing the direct route" 'cached'
check "KIM_TUNNEL=always in the environment works like the flag" \
  env KIM_TUNNEL=always XDG_CACHE_HOME="$WORK/env-cache" nsenter --net="$CLIENT_NS" -- "$KIM" --debug images
output_has "through the tunnel" 'route: tunnel'
check_fails "an unknown --tunnel mode is refused, naming the modes" 'auto.*always.*never|never.*always.*auto' \
  client_kim images --tunnel sometimes

ctx=$WORK/ctx
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $KIM_LAB_REGISTRY/busybox:1
COPY message /message
RUN echo "built through the tunnel, seed \$(cat /etc/seed-version)" > /greeting && cat /message >> /greeting
CMD ["cat", "/greeting"]
DOCKERFILE
echo "and its context file" >"$ctx/message"
image=$KIM_LAB_REGISTRY/e2e/tunnel:1
check "kim build --tunnel auto from the client netns" client_kim build --progress plain --tunnel auto -t e2e/tunnel:auto "$ctx"
check "kim build --tunnel always from the client netns" client_kim build --progress plain --tunnel always -t "$image" "$ctx"
check "kim images --tunnel always lists both" client_kim images --tunnel always
output_has "the auto build" 'e2e/tunnel +auto '
output_has "the always build" "$KIM_LAB_REGISTRY/e2e/tunnel +1 "
check "kim push --tunnel always from the client netns" client_kim push --tunnel always "$image"
check "the registry has the pushed tag" sh -c "curl -fsS 'http://$KIM_LAB_REGISTRY/v2/e2e/tunnel/tags/list' | grep -q '\"1\"'"
check "a Pod runs the built image with imagePullPolicy Never" run_pod e2e-tunnel "$image" Never
check "its log" kubectl logs e2e-tunnel
output_has "has the line the RUN step wrote" '^built through the tunnel, seed seed-image-1$'
output_has "and the context file" '^and its context file$'
kubectl delete pod e2e-tunnel --wait=false >/dev/null 2>&1 || true

t0=$(date +%s%N)
check_fails "kim images --tunnel never from the client netns fails, asking whether the node is routable" 'routable' \
  client_kim images --tunnel never
took=$(( ($(date +%s%N) - t0) / 1000000 ))
if ! grep -q routable "$WORK/last"; then bad "--tunnel never did not fail as it should (above), after ${took} ms"
elif [ "$took" -lt 10000 ]; then ok "it failed after ${took} ms (< 10 s)"; else bad "--tunnel never took ${took} ms to fail"; fi

# ---------------------------------------------------------------- on the host
check "kim images --tunnel auto on the host" env XDG_CACHE_HOME="$WORK/host-cache" "$KIM" --debug images --tunnel auto
output_has "goes direct" 'route: direct'
check "kim images --tunnel never on the host" env XDG_CACHE_HOME="$WORK/host-cache" "$KIM" images --tunnel never
check "kim images --tunnel always on the host" env XDG_CACHE_HOME="$WORK/host-cache" "$KIM" --debug images --tunnel always
output_has "uses the tunnel" 'route: tunnel'

# ---------------------------------------------------------------- RBAC: pods/portforward
ro_user=system:serviceaccount:$NS:kim-readonly
# ro_role NAME RESOURCES VERBS: a Role with one rule, bound to the kim-readonly ServiceAccount.
ro_role() {
  kubectl apply -f - <<YAML || { echo "creating the Role $1 failed"; return 1; }
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: $1, namespace: $NS}
rules:
- apiGroups: [""]
  resources: [$2]
  verbs: [$3]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: $1, namespace: $NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: $1}
subjects: [{kind: ServiceAccount, name: kim-readonly, namespace: $NS}]
YAML
}
ro_setup() {
  printf 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: kim-readonly, namespace: %s}\n' "$NS" |
    kubectl apply -f - >/dev/null || { echo "creating the kim-readonly ServiceAccount failed"; return 1; }
  ro_role kim-readonly-discovery "pods, services, endpoints, secrets" "get, list, watch" || return 1
  local token ca
  token=$(kubectl -n "$NS" create token kim-readonly --duration 1h) || { echo "kubectl create token kim-readonly failed"; return 1; }
  [ -n "$token" ] || { echo "kubectl create token printed nothing"; return 1; }
  ca=$(kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}') \
    || { echo "cannot read the CA of \$KUBECONFIG"; return 1; }
  [ -n "$ca" ] || { echo "\$KUBECONFIG has no certificate-authority-data"; return 1; }
  printf '%s' "$ca" | base64 -d >"$WORK/ca.crt" || { echo "cannot decode the CA of \$KUBECONFIG"; return 1; }
  RO_KUBECONFIG=$WORK/readonly.kubeconfig
  "$KUBECTL" config --kubeconfig="$RO_KUBECONFIG" set-cluster lab --server="$api_server" \
    --certificate-authority="$WORK/ca.crt" --embed-certs=true >/dev/null || { echo "kubectl config set-cluster failed"; return 1; }
  "$KUBECTL" config --kubeconfig="$RO_KUBECONFIG" set-credentials kim-readonly --token="$token" >/dev/null \
    || { echo "kubectl config set-credentials failed"; return 1; }
  "$KUBECTL" config --kubeconfig="$RO_KUBECONFIG" set-context kim-readonly --cluster=lab --user=kim-readonly \
    --namespace=default >/dev/null || { echo "kubectl config set-context failed"; return 1; }
  "$KUBECTL" config --kubeconfig="$RO_KUBECONFIG" use-context kim-readonly >/dev/null || { echo "kubectl config use-context failed"; return 1; }
}
RO_KUBECONFIG=$WORK/readonly.kubeconfig
on_exit "'$KUBECTL' -n $NS delete rolebinding/kim-readonly-discovery rolebinding/kim-readonly-portforward role/kim-readonly-discovery role/kim-readonly-portforward serviceaccount/kim-readonly --ignore-not-found"
check "a ServiceAccount kim-readonly with discovery reads only, and a kubeconfig with its token" ro_setup
ro_kubectl() { "$KUBECTL" --kubeconfig="$RO_KUBECONFIG" --request-timeout=20s "$@"; }
# can_i VERB RESOURCE [SUBRESOURCE]: prints yes or no (auth can-i exits 1 on "no"). A subresource
# needs --subresource: "pods/portforward" would be the pod named "portforward".
can_i() { ro_kubectl -n "$NS" auth can-i "$1" "$2" ${3:+--subresource="$3"} 2>/dev/null || true; }
for r in pods services endpoints secrets; do
  [ "$(can_i get "$r")" = yes ] && ok "kim-readonly can get $r" || bad "kim-readonly cannot get $r"
done
for v in get create; do
  [ "$(can_i "$v" pods portforward)" = no ] && ok "kim-readonly cannot $v pods/portforward" || bad "kim-readonly can $v pods/portforward"
done
check_fails "kubectl port-forward as kim-readonly is forbidden" 'forbidden|portforward' pf_agent "$RO_KUBECONFIG"
ro_kim() { in_client env KUBECONFIG="$RO_KUBECONFIG" XDG_CACHE_HOME="$WORK/ro-cache" "$KIM" "$@"; }
check "on the host, kim-readonly can use kim directly (discovery needs no more)" \
  env KUBECONFIG="$RO_KUBECONFIG" XDG_CACHE_HOME="$WORK/ro-cache" "$KIM" images --tunnel never
check_fails "from the client netns, kim-readonly's kim images --tunnel always names pods/portforward" 'pods/portforward' \
  ro_kim images --tunnel always
check_fails "kim-readonly's --tunnel auto fails too, naming the tunnel's missing rule" 'pods/portforward' \
  ro_kim images --tunnel auto
output_has "and the direct attempt" "routable|direct|$node_ip"

ro_grant() {
  ro_role kim-readonly-portforward pods/portforward "get, create" || return 1
  # the authorizer's RBAC cache catches up within moments
  for _ in $(seq 50); do
    [ "$(can_i create pods portforward)" = yes ] && [ "$(can_i get pods portforward)" = yes ] && return 0
    sleep 0.2
  done
  echo "kim-readonly still cannot get/create pods/portforward 10 s after the RoleBinding"; return 1
}
check "grant kim-readonly get and create on pods/portforward" ro_grant
check "now kubectl port-forward as kim-readonly works" pf_agent "$RO_KUBECONFIG"
check "now kim-readonly's kim images --tunnel always works from the client netns" ro_kim images --tunnel always
check "and its kim build --tunnel always" ro_kim build --progress plain --tunnel always -t e2e/tunnel:ro "$ctx"

# ---------------------------------------------------------------- RBAC: the kim-user roles
# A ServiceAccount bound only to the Role and ClusterRole kim-user that install created, with
# the commands docs/security.md gives an admin: it reaches the builder through the tunnel, and
# cannot read the CA key.
KU_KUBECONFIG=$WORK/kim-user.kubeconfig
ku_setup() {
  printf 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: kim-user-e2e, namespace: %s}\n' "$NS" |
    kubectl apply -f - >/dev/null || { echo "creating the kim-user-e2e ServiceAccount failed"; return 1; }
  kubectl -n "$NS" create rolebinding kim-user-e2e --role=kim-user --serviceaccount="$NS:kim-user-e2e" \
    || { echo "kubectl create rolebinding failed"; return 1; }
  kubectl create clusterrolebinding kim-user-e2e --clusterrole=kim-user --serviceaccount="$NS:kim-user-e2e" \
    || { echo "kubectl create clusterrolebinding failed"; return 1; }
  local token
  token=$(kubectl -n "$NS" create token kim-user-e2e --duration 1h) || { echo "kubectl create token failed"; return 1; }
  [ -s "$WORK/ca.crt" ] || { echo "no API server CA in $WORK/ca.crt (ro_setup writes it)"; return 1; }
  "$KUBECTL" config --kubeconfig="$KU_KUBECONFIG" set-cluster lab --server="$api_server" \
    --certificate-authority="$WORK/ca.crt" --embed-certs=true >/dev/null || return 1
  "$KUBECTL" config --kubeconfig="$KU_KUBECONFIG" set-credentials kim-user-e2e --token="$token" >/dev/null || return 1
  "$KUBECTL" config --kubeconfig="$KU_KUBECONFIG" set-context kim-user-e2e --cluster=lab --user=kim-user-e2e \
    --namespace=default >/dev/null || return 1
  "$KUBECTL" config --kubeconfig="$KU_KUBECONFIG" use-context kim-user-e2e >/dev/null || return 1
}
on_exit "'$KUBECTL' delete clusterrolebinding/kim-user-e2e --ignore-not-found; '$KUBECTL' -n $NS delete rolebinding/kim-user-e2e serviceaccount/kim-user-e2e --ignore-not-found"
check "a ServiceAccount bound only to kim-user (kubectl create rolebinding/clusterrolebinding), and its kubeconfig" ku_setup
ku_can_i() { "$KUBECTL" --kubeconfig="$KU_KUBECONFIG" --request-timeout=20s -n "$NS" auth can-i "$@" 2>/dev/null || true; }
ku_ready() {
  for _ in $(seq 50); do
    [ "$(ku_can_i create pods --subresource=portforward)" = yes ] && return 0
    sleep 0.2
  done
  echo "kim-user-e2e cannot create pods/portforward 10 s after its RoleBinding"; return 1
}
check "the authorizer knows the binding" ku_ready
[ "$(ku_can_i get secrets/kim-tls-client)" = yes ] && ok "kim-user can get secret kim-tls-client" || bad "kim-user cannot get secret kim-tls-client"
for s in kim-tls-ca kim-tls-server; do
  [ "$(ku_can_i get "secrets/$s")" = no ] && ok "kim-user cannot get secret $s" || bad "kim-user can get secret $s"
done
[ "$(ku_can_i list secrets)" = no ] && ok "kim-user cannot list secrets" || bad "kim-user can list secrets"
check_fails "kubectl get secret kim-tls-ca as kim-user is forbidden" 'forbidden' \
  "$KUBECTL" --kubeconfig="$KU_KUBECONFIG" -n "$NS" get secret kim-tls-ca
ku_kim() { in_client env KUBECONFIG="$KU_KUBECONFIG" XDG_CACHE_HOME="$WORK/ku-cache" "$KIM" "$@"; }
check "kim-user's kim images --tunnel always from the client netns" ku_kim images --tunnel always
output_has "lists the images" 'e2e/tunnel +auto '
check "kim-user's kim build --tunnel always from the client netns" ku_kim build --progress plain --tunnel always -t e2e/tunnel:kim-user "$ctx"
check "kim-user's kim system info on the host" env KUBECONFIG="$KU_KUBECONFIG" XDG_CACHE_HOME="$WORK/ku-cache" "$KIM" system info
output_has "shows the builder node" "Builder node: +${KIM_LAB_NODES%% *}"
output_has "and the running buildkitd" 'buildkitd: +running buildkitd'

# ---------------------------------------------------------------- the builder pod is recreated
old=$pod
check "delete the builder pod ${old:-?}" kubectl -n "$NS" delete pod "$old" --wait=false
new_pod_ready() {
  local p ready
  for _ in $(seq 360); do
    for p in $(builder_pods 2>/dev/null || true); do
      [ "$p" != "$old" ] || continue
      ready=$(kubectl -n "$NS" get pod "$p" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
      [ "$ready" = True ] && { echo "new builder pod $p is Ready"; return 0; }
    done
    sleep 0.5
  done
  echo "no new Ready builder pod 180 s after deleting $old:"; kubectl -n "$NS" get pods -o wide; return 1
}
check "the DaemonSet makes a new builder pod and it turns Ready" new_pod_ready
check "kim images --tunnel always from the client netns finds the new pod" client_kim images --tunnel always
check "and so does --tunnel auto" client_kim --debug images --tunnel auto
output_has "through the tunnel" 'route: tunnel'
check "and kim build --tunnel always" client_kim build --progress plain --tunnel always -t e2e/tunnel:2 "$ctx"
check "kim rmi the test images" client_kim rmi --tunnel always e2e/tunnel:auto e2e/tunnel:ro e2e/tunnel:kim-user e2e/tunnel:2 "$image"
finish
