#!/usr/bin/env python3
"""kim build side by side with buildctl on the same buildkitd: `FROM scratch` + `COPY . /ctx/`
with --no-cache and no output (context upload + COPY, as the protocol notes measure it), for

  small: 20,000 files of 1-4 KB in 200 directories (~50 MB)
  big:   ~1 GB in 4 files

Each run starts from `buildctl prune --all`, a re-read of the context into the page cache, sync
and a short pause; kim and buildctl alternate which goes first. The peers (buildkitd + containerd)
are started by this script with their state on tmpfs (/dev/shm) when it exists.

Prints medians (min-max), the ratio kim/buildctl (goal <= 0.8) and kim's peak RSS (goal < 64 MB).
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.expanduser("~/.cache/kim-bench")
DOCKERFILE = "FROM scratch\nCOPY . /ctx/\n"


def sh(*argv, env=None):
    return subprocess.run(argv, env=env, check=True, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)


def peers_up():
    env = dict(os.environ)
    if os.path.isdir("/dev/shm"):
        env["KIM_PEERS_ROOT"] = "/dev/shm"
    out = sh(os.path.join(REPO, "scripts/peers"), "up", "buildkitd", env=env).stdout
    peers = {}
    for line in out.splitlines():
        if line.startswith("export "):
            key, value = line[len("export "):].split("=", 1)
            peers[key] = value.strip("'")
    return peers


def peers_down(peers):
    subprocess.run([os.path.join(REPO, "scripts/peers"), "down", peers["KIM_PEERS_DIR"]],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_small(path, files=20000, dirs=200):
    if os.path.exists(os.path.join(path, ".done")):
        return
    rng = random.Random(1)
    for d in range(dirs):
        os.makedirs(os.path.join(path, f"d{d:03d}"), exist_ok=True)
    for i in range(files):
        size = rng.randint(1024, 4096)
        with open(os.path.join(path, f"d{i % dirs:03d}", f"f{i:05d}.txt"), "wb") as f:
            f.write(rng.randbytes(size))
    with open(os.path.join(path, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE)
    open(os.path.join(path, ".done"), "w").close()


def make_big(path, total_mb=1024, files=4):
    if os.path.exists(os.path.join(path, ".done")):
        return
    os.makedirs(path, exist_ok=True)
    chunk = os.urandom(1 << 20)
    for i in range(files):
        with open(os.path.join(path, f"blob{i}.bin"), "wb") as f:
            for j in range(total_mb // files):
                f.write(chunk[j % 7:] + chunk[:j % 7])
    with open(os.path.join(path, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE)
    open(os.path.join(path, ".done"), "w").close()


def prepare(peers, context):
    sh(peers["KIM_TEST_BUILDCTL"], "--addr", peers["KIM_TEST_BUILDKIT_SOCKET"], "prune", "--all")
    subprocess.run(f"tar cf - -C '{context}' . | cat > /dev/null", shell=True, check=True)
    os.sync()
    time.sleep(1)


def timed(argv):
    """Runs argv; returns (seconds, peak RSS in MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{err}")
    return elapsed, usage.ru_maxrss / 1024.0


def summary(values):
    return f"{statistics.median(values):7.2f} ({min(values):.2f}-{max(values):.2f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kim", default=os.path.join(REPO, "build/apps/kim/kim"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["small", "big"])
    args = parser.parse_args()
    if not os.access(args.kim, os.X_OK):
        sys.exit(f"no kim binary at {args.kim} (build it, or pass --kim)")

    contexts = {"small": os.path.join(CACHE, "build-small"), "big": os.path.join(CACHE, "build-big")}
    print("preparing contexts in", CACHE, file=sys.stderr)
    make_small(contexts["small"])
    make_big(contexts["big"])
    peers = peers_up()
    try:
        addr = peers["KIM_TEST_BUILDKIT_SOCKET"]
        for name, context in contexts.items():
            if args.only and name != args.only:
                continue
            commands = {
                "kim": [args.kim, "build", "--buildkit-addr", addr, "--progress", "quiet",
                        "--no-cache", context],
                "buildctl": [peers["KIM_TEST_BUILDCTL"], "--addr", addr, "build", "--progress",
                             "plain", "--no-cache", "--frontend", "dockerfile.v0", "--local",
                             f"context={context}", "--local", f"dockerfile={context}"],
            }
            times = {"kim": [], "buildctl": []}
            rss = {"kim": [], "buildctl": []}
            for run in range(args.runs):
                order = ["kim", "buildctl"] if run % 2 == 0 else ["buildctl", "kim"]
                for tool in order:
                    prepare(peers, context)
                    seconds, peak = timed(commands[tool])
                    times[tool].append(seconds)
                    rss[tool].append(peak)
                    print(f"  {name} run {run + 1} {tool:8s} {seconds:6.2f} s  {peak:5.1f} MB",
                          file=sys.stderr)
            ratio = statistics.median(times["kim"]) / statistics.median(times["buildctl"])
            print(f"{name:5s} kim      {summary(times['kim'])} s   peak RSS {max(rss['kim']):5.1f} MB")
            print(f"{name:5s} buildctl {summary(times['buildctl'])} s   peak RSS "
                  f"{max(rss['buildctl']):5.1f} MB")
            print(f"{name:5s} ratio kim/buildctl {ratio:.2f} (goal <= 0.80)   kim peak RSS "
                  f"{max(rss['kim']):.1f} MB (goal < 64 MB)")
    finally:
        peers_down(peers)


if __name__ == "__main__":
    main()
