#!/usr/bin/env python3
"""Start-up time of `kim --help` and `kim --version`, side by side with reference CLIs.

Runs every command N times, interleaved (kim, then each reference, then kim again...), so that
machine noise hits all of them alike. Prints the median wall time with min-max, peak RSS, the
ratio of each kim command to each reference, and whether kim meets its goals (--help and
--version under 5 ms; `kim images` on an empty containerd, which it starts, under 10 ms).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOALS_MS = {"kim --help": 5.0, "kim --version": 5.0, "kim images (empty containerd)": 10.0}


def peak_rss_kb(argv):
    """Peak RSS of argv in kB, measured by GNU time (a small C parent, so the figure is the
    program's own)."""
    import subprocess
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, check=True)
    return int(result.stderr.strip().splitlines()[-1])


def run_once(argv):
    """Runs argv with output discarded; returns (seconds, exit code)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    start = time.perf_counter()
    # posix_spawn (vfork+exec): the child's peak RSS is that of the program, not of a copy of
    # this Python process.
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    os.close(devnull)
    return time.perf_counter() - start, os.waitstatus_to_exitcode(status)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kim", required=True, help="path of the kim binary")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--containerd-socket", help="an empty containerd (default: start one)")
    args = parser.parse_args()

    commands = {
        "kim --help": [args.kim, "--help"],
        "kim --version": [args.kim, "--version"],
    }
    peers = None
    if args.containerd_socket is None:  # an empty containerd of the peers' for `kim images`
        out = subprocess.run([os.path.join(REPO, "scripts/peers"), "up", "containerd"], text=True,
                             stdout=subprocess.PIPE, check=True).stdout
        peers = dict(line[len("export "):].split("=", 1) for line in out.splitlines()
                     if line.startswith("export "))
        args.containerd_socket = peers["KIM_TEST_CONTAINERD_SOCKET"].strip("'")
    commands["kim images (empty containerd)"] = [args.kim, "--containerd-socket",
                                                 args.containerd_socket, "images"]
    try:
        return measure(args, commands)
    finally:
        if peers:
            subprocess.run([os.path.join(REPO, "scripts/peers"), "down",
                            peers["KIM_PEERS_DIR"].strip("'")], stdout=subprocess.DEVNULL)


def measure(args, commands):
    references = {}
    for name, argv in (("ctr --help", ["ctr", "--help"]),
                       ("buildctl --help", [os.environ.get("KIM_BUILDCTL", "buildctl"), "--help"]),
                       ("/bin/true", ["/bin/true"])):
        path = shutil.which(argv[0])
        if path:
            references[name] = [path] + argv[1:]
        else:
            print(f"note: {argv[0]} not found; not measured", file=sys.stderr)
    everything = {**commands, **references}

    for argv in everything.values():  # warm the page cache
        run_once(argv)
    times = {name: [] for name in everything}
    for _ in range(args.runs):
        for name, argv in everything.items():
            seconds, code = run_once(argv)
            if code != 0:
                sys.exit(f"{name} exited {code}")
            times[name].append(seconds * 1000)
    rss = {name: max(peak_rss_kb(argv) for _ in range(3)) for name, argv in everything.items()}

    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"start-up, {args.runs} interleaved runs each (median, min-max, peak RSS)")
    for name, values in times.items():
        print(f"  {name:18} {median[name]:7.2f} ms  ({min(values):.2f}-{max(values):.2f})"
              f"  {rss[name] / 1024:5.1f} MB")
    print("ratios (kim / reference, medians; < 1 means kim is faster)")
    for name in commands:
        for ref in references:
            if ref == "/bin/true":
                continue
            print(f"  {name:18} / {ref:16} {median[name] / median[ref]:5.2f}x")
    failed = False
    for name in commands:
        ok = median[name] < GOALS_MS[name]
        failed |= not ok
        print(f"goal: {name} under {GOALS_MS[name]:.0f} ms: {'met' if ok else 'NOT met'}"
              f" ({median[name]:.2f} ms)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
