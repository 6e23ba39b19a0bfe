#!/bin/bash
# `kim system login` stores credentials in the cluster, and they serve the builder and the agent:
# with an empty local Docker config, after logging in to the lab's Basic-auth registry, `kim push`
# to it, `kim pull` from it and a `kim build` whose FROM is a private image there all work; after
# `kim system logout` each fails with an authentication error.
. "$(dirname "$0")/lib.sh"
unset KIM_AGENT_ADDR KIM_BUILDKIT_ADDR KIM_CONTAINERD_SOCKET
auth=$KIM_LAB_REGISTRY_AUTH
private=$auth/e2e/private:1
on_exit "'$KIM' system uninstall --timeout 60s"
check "kim system install" "$KIM" system install --timeout 180s

ctx=$WORK/base
mkdir -p "$ctx"
printf 'FROM %s/busybox:1\nRUN echo private-base > /private\n' "$KIM_LAB_REGISTRY" >"$ctx/Dockerfile"
check "build an image to push" "$KIM" build --progress plain -t "$private" "$ctx"
auth_error='(unauthorized|authentication required|401|no basic auth credentials|authorization)'
check_fails "before login, kim push to the auth registry is refused" "$auth_error" "$KIM" push "$private"

check "kim system login to the auth registry" sh -c \
  "printf '%s' '$KIM_LAB_REGISTRY_PASSWORD' | '$KIM' system login -u '$KIM_LAB_REGISTRY_USER' --password-stdin '$auth'"
check "the local Docker config is still empty" sh -c "[ ! -s '$DOCKER_CONFIG/config.json' ] || ! grep -q '$auth' '$DOCKER_CONFIG/config.json'"
check "kim push to it works with the cluster's credentials" "$KIM" push "$private"
check "kim rmi it" "$KIM" rmi "$private"
check "kim pull from it works" "$KIM" pull "$private"
check "kim images shows the pulled image" "$KIM" images "$auth/e2e/private"
derived=$WORK/derived
mkdir -p "$derived"
printf 'FROM %s\nRUN cat /private > /derived\n' "$private" >"$derived/Dockerfile"
check "kim rmi it again (the build must pull it itself)" "$KIM" rmi "$private"
check "kim build FROM the private image works" "$KIM" build --progress plain --no-cache -t e2e/derived:1 "$derived"
check "kim rmi the derived image" "$KIM" rmi e2e/derived:1

check "kim system logout from the auth registry" "$KIM" system logout "$auth"
check "build the image again" "$KIM" build --progress plain -t "$private" "$ctx"
check_fails "after logout, kim push fails with an authentication error" "$auth_error" "$KIM" push "$private"
check "kim rmi it" "$KIM" rmi "$private"
check_fails "after logout, kim pull fails with an authentication error" "$auth_error" "$KIM" pull "$private"
check_fails "after logout, a build FROM the private image fails with an authentication error" "$auth_error" \
  "$KIM" build --progress plain --no-cache -t e2e/derived:2 "$derived"
finish
