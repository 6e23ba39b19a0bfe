#!/bin/bash
# kim's main job on a real cluster, with nothing but KUBECONFIG: `kim system install` puts the
# builder on the node and waits for its pod; `kim build -t hello:1` of a context with a RUN step
# (and one reading a build secret) makes an image that a Pod runs at once (imagePullPolicy: Never);
# the builder pod shares no host PID namespace and mounts neither /run nor /tmp; `kim images` lists it; tag and
# push to the lab registry, and a Pod pulls it from there; `kim rmi`; the kubelet restarts a
# killed buildkitd and the next build works; `kim system info` shows the running pod's truth;
# `kim system uninstall` leaves no object, node label or builder container behind.
. "$(dirname "$0")/lib.sh"
unset KIM_AGENT_ADDR KIM_BUILDKIT_ADDR KIM_CONTAINERD_SOCKET
node=${KIM_LAB_NODES%% *}
on_exit "'$KIM' system uninstall --timeout 60s"

check "kim system install with the default images" "$KIM" system install --timeout 180s
output_has "install says the builder is ready" 'Builder ready'
check "the builder pod runs on the node" \
  sh -c "'$KUBECTL' -n kube-image get pods -o wide | grep -E 'builder-.*2/2 +Running.*$node'"
check "the node carries the builder role" \
  sh -c "'$KUBECTL' get node $node --show-labels | grep -q node-role.kubernetes.io/builder=true"

confined() {
  local spec
  spec=$(kubectl -n kube-image get daemonset builder -o jsonpath='{.spec.template.spec.hostPID} {range .spec.template.spec.volumes[*]}{.hostPath.path} {end}') || return 1
  echo "hostPID and host paths: $spec"
  case " $spec " in *" true "*|*" /run "*|*" /tmp "*) echo "not confined"; return 1 ;; esac
}
check "the builder pod shares no host PID namespace and mounts neither /run nor /tmp" confined
check "kim system info" "$KIM" system info
output_has "info shows the pod ready" 'Ready: +1/1'
output_has "info shows the version the running buildkitd reports" "buildkitd: +running buildkitd v0\.[0-9]+\.[0-9]+.*healthy"
output_has "and the running agent and its containerd" "kim-agent: +running kim-agent v[0-9.]+.* on containerd 1\.[0-9.]+.*healthy"

ctx=$WORK/hello
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $KIM_LAB_REGISTRY/busybox:1
COPY message /message
RUN echo "hello from a kim build, seed \$(cat /etc/seed-version)" > /greeting && cat /message >> /greeting
RUN --mount=type=secret,id=word echo "secret word: \$(cat /run/secrets/word)" >> /greeting
CMD ["cat", "/greeting"]
DOCKERFILE
echo "and its context file" >"$ctx/message"
echo "swordfish" >"$WORK/word"
# The secret's tmpfs is made by buildkitd under its TMPDIR (beneath /var/lib/buildkit, not the
# node's /tmp) and reaches the step's container only through that mount's Bidirectional
# propagation: this RUN step proves the confined pod still works.
check "kim build -t hello:1 (RUN steps, one with a secret mount) through the discovered builder" \
  "$KIM" build --progress plain --secret id=word,src="$WORK/word" -t hello:1 "$ctx"
check "a Pod runs hello:1 with imagePullPolicy Never" run_pod e2e-hello hello:1 Never
check "its log has the line the RUN step wrote" kubectl logs e2e-hello
output_has "the greeting" '^hello from a kim build, seed seed-image-1$'
output_has "and the context file" '^and its context file$'
output_has "and the build secret, read by a RUN step" '^secret word: swordfish$'
check "kim images lists hello:1" "$KIM" images hello
output_has "with its tag" 'hello +1 '

pushed=$KIM_LAB_REGISTRY/e2e/hello:1
check "kim tag hello:1 to the lab registry" "$KIM" tag hello:1 "$pushed"
check "kim push it" "$KIM" push "$pushed"
check "kim rmi the pushed name (the node no longer has it)" "$KIM" rmi "$pushed"
check "a Pod pulls it from the registry and runs it" run_pod e2e-pulled "$pushed" Always
check "its log has the same greeting" kubectl logs e2e-pulled
output_has "the pulled image's greeting" '^hello from a kim build'
kubectl delete pod e2e-hello e2e-pulled --wait=true >/dev/null 2>&1 || true
archive=$WORK/hello.tar
check "kim save hello:1 (streamed from the node through the agent)" "$KIM" save -o "$archive" hello:1
check "kim rmi hello:1 and the pulled copy" "$KIM" rmi hello:1 "$pushed"
check "kim images no longer lists them" sh -c "! '$KIM' images --format '{{.Repository}}:{{.Tag}}' | grep -E '(^|/)hello:1$'"
check "kim load -i brings hello:1 back" "$KIM" load -i "$archive"
output_has "under its name" '^Loaded image: hello:1$'
check "a Pod runs the loaded hello:1 with imagePullPolicy Never (CRI unpacks it on first use)" run_pod e2e-loaded hello:1 Never
check "its log has the greeting" kubectl logs e2e-loaded
output_has "the loaded image's greeting" '^hello from a kim build'
# The kubelet's containers (the exited e2e-loaded, the running builder) keep their images.
check "kim image prune -a -f with Pods on the node" "$KIM" image prune -a -f
check "keeps hello:1, which the e2e-loaded Pod's container uses" sh -c "'$KIM' images --format '{{.Repository}}:{{.Tag}}' | grep -qx 'hello:1'"
check "keeps the builder's running images" sh -c "'$KIM' images --format '{{.Repository}}' | grep -q 'kim-agent' && '$KIM' images --format '{{.Repository}}' | grep -q 'buildkit'"
kubectl delete pod e2e-loaded --wait=true >/dev/null 2>&1 || true
check "kim rmi the loaded hello:1" "$KIM" rmi hello:1

# fault: buildkitd dies; the kubelet restarts it and the next build works
pod=$(kubectl -n kube-image get pods -l app.kubernetes.io/name=kim -o jsonpath='{.items[0].metadata.name}' || true)
cid=$(kubectl -n kube-image get pod "$pod" -o jsonpath='{.status.containerStatuses[?(@.name=="buildkitd")].containerID}' || true)
cid=${cid#containerd://}
check "kill the buildkitd container on the node" node_ctr 0 tasks kill -s SIGKILL "$cid"
restarted() {
  local n ready
  for _ in $(seq 120); do
    n=$(kubectl -n kube-image get pod "$pod" -o jsonpath='{.status.containerStatuses[?(@.name=="buildkitd")].restartCount}' || true)
    ready=$(kubectl -n kube-image get pod "$pod" -o jsonpath='{.status.containerStatuses[?(@.name=="buildkitd")].ready}' || true)
    [ "${n:-0}" -ge 1 ] && [ "$ready" = true ] && return 0
    sleep 1
  done
  echo "restartCount=${n:-?} ready=${ready:-?}"; return 1
}
check "the kubelet restarts buildkitd and it turns ready again" restarted
check "the next kim build works" "$KIM" build --progress plain -t hello:2 "$ctx"
check "and its image runs" run_pod e2e-hello2 hello:2 Never
kubectl delete pod e2e-hello2 --wait=false >/dev/null 2>&1 || true
check "kim rmi hello:2" "$KIM" rmi hello:2

check "kim system uninstall" "$KIM" system uninstall --timeout 120s
check "the namespace is gone" sh -c "! '$KUBECTL' get namespace kube-image 2>/dev/null"
check "no node carries the builder label" sh -c "! '$KUBECTL' get nodes -l node-role.kubernetes.io/builder --no-headers 2>/dev/null | grep -q ."
gone() {
  for _ in $(seq 60); do
    node_ctr 0 containers ls -q >"$WORK/containers" 2>&1
    local left=0 c
    for c in $(cat "$WORK/containers"); do
      node_ctr 0 containers info "$c" 2>/dev/null | grep -qE '"io.kubernetes.pod.namespace": "kube-image"' && left=$((left + 1))
    done
    [ $left = 0 ] && return 0
    sleep 1
  done
  echo "$left builder containers left on the node"; return 1
}
check "no builder container is left on the node" gone
finish
