#!/usr/bin/env python3
"""Runs every benchmark target of bench/run one after the other and writes what they printed to
bench/results/latest.md: a table of every ratio and goal line first, then each target's whole
output (medians, min-max, RSS). The tunnel and distribute benchmarks (each brings up a lab
cluster) run only when asked: bench/run all --with-lab.
"""
import argparse
import datetime
import os
import platform
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = ["startup", "images", "build", "build-export", "build-incremental", "save-load"]
KEYWORDS = ("ratio", "goal", "RSS")


def git(*args):
    return subprocess.run(["git", "-C", REPO] + list(args), text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-lab", "--with-tunnel", action="store_true",
                        help="also run the benchmarks that bring up a lab (tunnel, distribute)")
    parser.add_argument("--output", default=os.path.join(REPO, "bench/results/latest.md"))
    args = parser.parse_args()
    targets = TARGETS + (["tunnel", "distribute"] if args.with_lab else [])
    outputs, failed = {}, []
    for target in targets:
        print(f"== bench/run {target}", file=sys.stderr, flush=True)
        result = subprocess.run([os.path.join(REPO, "bench/run"), target], text=True,
                                stdout=subprocess.PIPE)
        outputs[target] = result.stdout
        sys.stdout.write(result.stdout)
        if result.returncode != 0:
            failed.append(f"{target} (exit {result.returncode})")
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write("# kim benchmarks: the latest `bench/run all`\n\n")
        f.write(f"- when: {datetime.datetime.now().astimezone().isoformat(timespec='minutes')}\n")
        f.write(f"- commit: {git('rev-parse', '--short=12', 'HEAD')}"
                f"{' (with uncommitted changes)' if git('status', '--porcelain') else ''}\n")
        f.write(f"- machine: {platform.node()}, {os.cpu_count()} cores, {platform.release()}\n")
        f.write(f"- targets that missed a goal or failed: {', '.join(failed) or 'none failed'}\n\n")
        f.write("## Ratios, goals and memory\n\n| target | figure |\n|---|---|\n")
        for target, text in outputs.items():
            for line in text.splitlines():
                if any(word in line for word in KEYWORDS):
                    f.write(f"| {target} | {line.strip().replace('|', '/')} |\n")
        for target, text in outputs.items():
            f.write(f"\n## bench/run {target}\n\n```\n{text.rstrip()}\n```\n")
    print(f"wrote {args.output}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
