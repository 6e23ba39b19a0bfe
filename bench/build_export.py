#!/usr/bin/env python3
"""The whole `kim build -t` as users time it, side by side with buildctl on the same buildkitd:
`FROM scratch` + `COPY . /ctx/`, the image exported into the node's containerd (buildctl:
`--output type=image,name=...,unpack=true` with BuildKit's defaults, so gzip layers; kim: its
defaults, so uncompressed layers), for the contexts of bench/build.py (20,000 small files, and
1 GB in 4 files).

  export       each run from `buildctl prune --all` and with the images removed (goals: kim/buildctl
               <= 0.5 for 20k files, <= 0.25 for 1 GB)
  incremental  one file of the 20,000 rewritten before each build, no prune between runs
               (goal <= 0.6)

kim and buildctl alternate which goes first. Prints medians (min-max), ratios and peak RSS.
"""
import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build as b  # noqa: E402  (the contexts, peers and timing helpers)

GOALS = {("export", "small"): 0.5, ("export", "big"): 0.25, ("incremental", "small"): 0.6}


def remove_images(peers, names):
    ctr = ["ctr", "-a", peers["KIM_TEST_CONTAINERD_SOCKET"], "-n", "k8s.io"]
    subprocess.run(ctr + ["images", "rm", "--sync"] + names, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def commands(args, peers, context, tag):
    addr = peers["KIM_TEST_BUILDKIT_SOCKET"]
    name = f"docker.io/library/bench-{tag}:1"
    return {
        "kim": [args.kim, "--containerd-socket", peers["KIM_TEST_CONTAINERD_SOCKET"], "build",
                "--buildkit-addr", addr, "--progress", "quiet", "-t", f"bench-{tag}-kim:1",
                context] + (["--no-cache"] if args.mode == "export" else []),
        "buildctl": [peers["KIM_TEST_BUILDCTL"], "--addr", addr, "build", "--progress", "plain",
                     "--frontend", "dockerfile.v0", "--local", f"context={context}", "--local",
                     f"dockerfile={context}", "--output",
                     f"type=image,name={name.replace(':1', '-buildctl:1')},unpack=true"]
                    + (["--no-cache"] if args.mode == "export" else []),
    }


def touch_one(context, run):
    """Rewrites one of the 20,000 files with new bytes (a different one each run)."""
    path = os.path.join(context, f"d{run % 200:03d}", f"f{run:05d}.txt")
    with open(path, "ab") as f:
        f.write(f"run {run} {os.getpid()}\n".encode())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["export", "incremental"])
    parser.add_argument("--kim", default=os.path.join(b.REPO, "build/apps/kim/kim"))
    parser.add_argument("--runs", type=int, default=5, help="runs per tool (1 GB: at most 3)")
    parser.add_argument("--only", choices=["small", "big"])
    args = parser.parse_args()
    contexts = {"small": os.path.join(b.CACHE, "build-small"), "big": os.path.join(b.CACHE, "build-big")}
    if args.mode == "incremental":
        contexts.pop("big")
    print("preparing contexts in", b.CACHE, file=sys.stderr)
    b.make_small(contexts["small"])
    if "big" in contexts:
        b.make_big(contexts["big"])
    peers = b.peers_up()
    try:
        for size, context in contexts.items():
            if args.only and size != args.only:
                continue
            runs = min(args.runs, 3) if size == "big" else args.runs
            cmd = commands(args, peers, context, size)
            names = [f"docker.io/library/bench-{size}-kim:1", f"docker.io/library/bench-{size}-buildctl:1"]
            times = {"kim": [], "buildctl": []}
            rss = {"kim": [], "buildctl": []}
            if args.mode == "incremental":  # a warm cache for both, not timed
                b.prepare(peers, context)
                for tool in ("kim", "buildctl"):
                    b.timed(cmd[tool])
            for run in range(runs):
                order = ["kim", "buildctl"] if run % 2 == 0 else ["buildctl", "kim"]
                for i, tool in enumerate(order):
                    if args.mode == "export":
                        remove_images(peers, names)
                        b.prepare(peers, context)
                    else:
                        touch_one(context, run * 2 + i)
                    seconds, peak = b.timed(cmd[tool])
                    times[tool].append(seconds)
                    rss[tool].append(peak)
                    print(f"  {args.mode} {size} run {run + 1} {tool:8s} {seconds:6.2f} s  "
                          f"{peak:5.1f} MB", file=sys.stderr)
            ratio = statistics.median(times["kim"]) / statistics.median(times["buildctl"])
            goal = GOALS[(args.mode, size)]
            label = f"{args.mode}-{size}"
            print(f"{label:17s} kim      {b.summary(times['kim'])} s   peak RSS {max(rss['kim']):5.1f} MB")
            print(f"{label:17s} buildctl {b.summary(times['buildctl'])} s   peak RSS "
                  f"{max(rss['buildctl']):5.1f} MB")
            print(f"{label:17s} ratio kim/buildctl {ratio:.2f} (goal <= {goal:.2f}) "
                  f"{'met' if ratio <= goal else 'NOT met'}   N={runs}")
            remove_images(peers, names)
    finally:
        b.peers_down(peers)


if __name__ == "__main__":
    main()
