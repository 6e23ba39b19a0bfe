#!/usr/bin/env bash
# The embedding test: installs the built kim (cmake --install) into a scratch prefix, builds
# test/embed against that prefix alone (find_package(kim CONFIG), kim::kim), then runs it on the
# peers' containerd and buildkitd: it must list the seed image and build a one-file context.
# Usage: run.sh BUILD_DIR (peers from $KIM_PEERS_ENV, as the other integration tests).
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1090
. "$KIM_PEERS_ENV"
scratch=$(mktemp -d /tmp/kim-embed.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "embedding test: $*" >&2; exit 1; }

# docs/embedding.md shows test/embed/main.cc: the two must not drift apart.
python3 - "$here/main.cc" "$here/../../docs/embedding.md" <<'PY' || fail "docs/embedding.md no longer shows test/embed/main.cc"
import sys
code = open(sys.argv[1]).read().split("\n", 3)[3]
doc = open(sys.argv[2]).read().split("```cpp\n")[1].split("```")[0]
sys.exit(0 if code == doc else 1)
PY

cmake --install "$build" --prefix "$scratch/prefix" >/dev/null || fail "cmake --install failed"
for f in include/kim/image_service.h include/kim/connect.h lib/cmake/kim/kimConfig.cmake \
         lib/pkgconfig/kim.pc lib/libkim_core.a bin/kim bin/kim-agent; do
  [ -e "$scratch/prefix/$f" ] || fail "the install has no $f"
done
[ ! -e "$scratch/prefix/include/kim/subprocess.h" ] || fail "an internal header was installed"
[ -z "$(find "$scratch/prefix/include" -path '*lib/*' -o -name '*.pb.h' | head -n1)" ] \
  || fail "internal or generated headers were installed"

# A libkim built with sanitizers (the sanitizer tree, KIM_SANITIZE) is embedded the same way,
# by a program built with the same compiler and sanitizers.
embed_flags=()
if grep -q '^KIM_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
  compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
  embed_flags=(-DCMAKE_CXX_COMPILER="$compiler" -DCMAKE_CXX_FLAGS=-fsanitize=address,undefined
               -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined)
fi
cmake -S "$here" -B "$scratch/build" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" "${embed_flags[@]}" >/dev/null \
  || fail "configuring test/embed against the installed kim failed"
cmake --build "$scratch/build" >/dev/null || fail "building test/embed failed"

ctx=$scratch/context
mkdir -p "$ctx"
printf 'FROM scratch\nCOPY message /message\n' >"$ctx/Dockerfile"
echo "built by a program that embeds libkim" >"$ctx/message"
# A seed image on the containerd, so that there is something to list.
"$build/apps/kim/kim" --containerd-socket "$KIM_TEST_CONTAINERD_SOCKET" pull "$KIM_TEST_REGISTRY/hello:1" >/dev/null \
  || fail "could not pull the seed image"
out=$("$scratch/build/kim-embed" "$KIM_TEST_CONTAINERD_SOCKET" "$KIM_TEST_BUILDKIT_SOCKET" "$ctx" "$scratch/out") \
  || fail "kim-embed failed: $out"
grep -qx "image $KIM_TEST_REGISTRY/hello:1" <<<"$out" || fail "kim-embed did not list the seed image: $out"
grep -qx "built" <<<"$out" || fail "kim-embed did not build: $out"
grep -qx "built by a program that embeds libkim" "$scratch/out/message" \
  || fail "the build's output is not in the output folder"
echo "ok: an installed libkim embedded, listed images and built"
