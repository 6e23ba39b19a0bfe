#!/usr/bin/env python3
"""An image built on one node, onto a second node: kim's agent-to-agent distribution
(`kim image distribute IMAGE --node B`) against the registry round trip
(`kim push` to the lab registry + `kim pull --node B`), on a two-node lab, interleaved.

The image: 200 MB in 5 layers of 40 MB of random bytes (`FROM scratch`, five `COPY`s), built
anew for every run with `kim build --distribute none` (so that no blob is in the registry or on
node B yet, and every byte really moves), uncompressed as kim builds images for the node. The
push sends it uncompressed too (`--compression uncompressed`), the registry round trip's best
case; with kim's default gzip the push would also spend the gzip time. Between the two
measurements node B loses the image again (`kim rmi --node B`, containerd's GC takes the blobs).
Which of the two goes first alternates.

Also: the shared-base case. A second image adds one 10 MB layer on top of the first; its
distribution must move only that layer, the config and the manifest: the bytes and blobs kim
reports are printed next to those sizes.

Brings up its own two-node lab (`scripts/lab up --nodes 2`; node 1 is k3s-like), installs kim
with the builder on node 0, and downs the lab at the end, also on failure. Prints medians
(min-max) and the ratio distribution / registry round trip (goal <= 0.5).
"""
import argparse
import os
import re
import signal
import statistics
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
from tunnel import Runner, lab_down, lab_up, log  # noqa: E402  (the lab helpers)

GOAL = 0.5
LAYERS = 5
LAYER_MB = 40


def make_context(path, seed, extra_mb=0):
    """A context of LAYERS random files (one COPY each) and a Dockerfile; with extra_mb, FROM the
    image tagged `base` plus one more layer of that size."""
    os.makedirs(path, exist_ok=True)
    lines = []
    if extra_mb:
        lines.append(f"FROM {seed}")
        with open(os.path.join(path, "extra"), "wb") as f:
            f.write(os.urandom(extra_mb << 20))
        lines.append("COPY extra /extra")
    else:
        lines.append("FROM scratch")
        for i in range(LAYERS):
            with open(os.path.join(path, f"layer{i}"), "wb") as f:
                f.write(os.urandom(LAYER_MB << 20))
            lines.append(f"COPY layer{i} /layer{i}")
    with open(os.path.join(path, "Dockerfile"), "w") as f:
        f.write("\n".join(lines) + "\n")


def summary(values):
    return f"{statistics.median(values):7.2f} s ({min(values):.2f}-{max(values):.2f})"


def sent_line(output, node):
    """The 'NODE: N of M blobs sent (SIZE)' summary line of a distribution's output."""
    for line in output.splitlines():
        if line.startswith(f"{node}: ") and ("sent" in line or "up to date" in line):
            return line
    return "(no summary line)"


def run(runner, nodes, registry, runs, work):
    kim = runner.kim
    a, b = nodes
    times = {"distribute": [], "registry": []}
    for i in range(runs):
        tag = f"bench-dist:{i}"
        context = os.path.join(work, f"ctx{i}")
        make_context(context, None)
        runner.must([kim, "build", "--progress", "plain", "--distribute", "none", "-t", tag, context],
                    f"building {tag} on {a}")
        pushed = f"{registry}/bench/dist:{i}"
        runner.must([kim, "tag", "--node", a, tag, pushed], "tagging for the registry")
        order = ["distribute", "registry"] if i % 2 == 0 else ["registry", "distribute"]
        for what in order:
            if what == "distribute":
                elapsed = runner.timed([kim, "image", "distribute", "--node", b, tag])[0]
                on_b = tag
            else:
                push = runner.timed([kim, "push", "--node", a, "--compression", "uncompressed",
                                     pushed])[0]
                pull = runner.timed([kim, "pull", "--node", b, pushed])[0]
                elapsed = push + pull
                on_b = pushed
            times[what].append(elapsed)
            log(f"bench: run {i + 1}/{runs} {what}: {elapsed:.2f} s")
            runner.must([kim, "rmi", "--node", b, on_b], f"removing {on_b} from {b}")
        runner.must([kim, "rmi", "--node", a, tag, pushed], f"removing the image from {a}")
    return times


def shared_base(runner, nodes, work):
    """Distributes a base image, then one more layer on it; returns kim's summary lines."""
    kim = runner.kim
    a, b = nodes
    make_context(os.path.join(work, "base"), None)
    runner.must([kim, "build", "--distribute", "none", "-t", "bench-base:1",
                 os.path.join(work, "base")], "building the base image")
    first = runner.must([kim, "image", "distribute", "--node", b, "bench-base:1"], "distributing the base")
    make_context(os.path.join(work, "top"), "bench-base:1", extra_mb=10)
    runner.must([kim, "build", "--distribute", "none", "-t", "bench-top:1",
                 os.path.join(work, "top")], "building the image on the base")
    second = runner.must([kim, "image", "distribute", "--node", b, "bench-top:1"], "distributing it")
    return sent_line(first, b), sent_line(second, b)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kim", default=os.path.join(REPO, "build/apps/kim/kim"))
    args = parser.parse_args()
    lab = {}

    def stop(signum, _):
        lab_down(lab)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with tempfile.TemporaryDirectory(prefix="kim-bench-dist-") as work:
        try:
            lab.update(lab_up("--nodes", "2"))
            nodes = lab["KIM_LAB_NODES"].split()[:2]
            runner = Runner(args.kim, lab, work)
            runner.must([args.kim, "system", "install", "--timeout", "300s", "--selector",
                         f"kubernetes.io/hostname={nodes[0]}"], "kim system install")
            times = run(runner, nodes, lab["KIM_LAB_REGISTRY"], args.runs, work)
            base, top = shared_base(runner, nodes, work)
        finally:
            lab_down(lab)
    mb = LAYERS * LAYER_MB
    print(f"distribute {mb} MB / {LAYERS} layers from {nodes[0]} to {nodes[1]} (k3s-like), "
          f"{args.runs} runs, interleaved")
    print(f"  kim image distribute        {summary(times['distribute'])}")
    print(f"  kim push + kim pull --node  {summary(times['registry'])}")
    ratio = statistics.median(times["distribute"]) / statistics.median(times["registry"])
    verdict = "meets" if ratio <= GOAL else "misses"
    print(f"  ratio distribute/registry   {ratio:.2f}  (goal <= {GOAL}: {verdict})")
    print("shared base: the base image, then one 10 MB layer on it")
    print(f"  base: {base}")
    print(f"  top:  {top}")
    match = re.search(r"(\d+) of (\d+) blobs sent", top)
    if match and int(match.group(1)) != 3:
        print(f"  UNEXPECTED: {match.group(1)} blobs moved for one new layer (wanted 3: layer, "
              "config, manifest)")
        return 1
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
