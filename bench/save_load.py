#!/usr/bin/env python3
"""kim save / kim load side by side with ctr images export / import, on one containerd.

A ~200 MB image of 5 layers (bench/images.py's), saved to tmpfs and loaded back, interleaved:
  save:  `kim save -o` (on the socket, and through kim-agent over mTLS) against
         `ctr images export`
  load:  `kim load -i` against `ctr images import --no-unpack` (what kim does: layers are
         unpacked by CRI when a container first needs them) and plain `ctr images import`
         (which unpacks too), the image and its content removed before every run.
Peak RSS of kim (the CLI) and of kim-agent are reported; goals: save and load <= 1.0x ctr,
kim's peak RSS under 64 MB.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import images as common  # bench/images.py: peers, the big image, helpers

REPO = common.REPO
KIM, AGENT = common.KIM, common.AGENT


def timed_rss(argv):
    """Seconds and peak RSS (KB) of one run, measured by /usr/bin/time."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{result.stderr}")
    return elapsed, int(result.stderr.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    env = common.peers_up()
    sock = env["KIM_TEST_CONTAINERD_SOCKET"]
    registry = env["KIM_TEST_REGISTRY"]
    ctr = ["ctr", "-a", sock, "-n", "k8s.io"]
    image = f"{registry}/big:1"
    work = tempfile.mkdtemp(prefix="kim-bench-archive-", dir="/dev/shm")
    pki = tempfile.mkdtemp(prefix="kim-bench-pki-")
    agent = None
    failed = False
    try:
        layout = common.big_image_layout()
        common.sh("skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:1",
                  f"docker://{image}")
        common.sh(*ctr, "images", "pull", "--plain-http", image)
        size_mb = sum(os.path.getsize(os.path.join(layout, "blobs/sha256", b))
                      for b in os.listdir(os.path.join(layout, "blobs/sha256"))) / 1e6

        common.sh("bash", os.path.join(REPO, "test/support/make-test-pki"), pki)
        port = common.free_port()
        agent = subprocess.Popen([AGENT, "--listen", f"127.0.0.1:{port}", "--containerd-socket",
                                  sock, "--tlscacert", f"{pki}/ca.crt", "--tlscert",
                                  f"{pki}/server.crt", "--tlskey", f"{pki}/server.key"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        kim_local = [KIM, "--containerd-socket", sock]
        kim_agent = [KIM, "--agent-addr", f"127.0.0.1:{port}", "--tlscacert", f"{pki}/ca.crt",
                     "--tlscert", f"{pki}/client.crt", "--tlskey", f"{pki}/client.key"]

        saves = {"kim save (socket)": [], "kim save (agent)": [], "ctr images export": []}
        rss = {"kim save (agent)": [], "kim load (agent)": []}
        for _ in range(args.runs):
            for name in saves:
                out = os.path.join(work, "saved.tar")
                if name == "ctr images export":
                    seconds, _ = timed_rss(ctr + ["images", "export", out, image])
                else:
                    tool = kim_local if "socket" in name else kim_agent
                    seconds, peak = timed_rss(tool + ["save", "-o", out, image])
                    if name in rss:
                        rss[name].append(peak)
                saves[name].append(seconds)
                os.remove(out)

        archive = os.path.join(work, "archive.tar")
        common.sh(*ctr, "images", "export", archive, image)
        loads = {"kim load (socket)": [], "kim load (agent)": [],
                 "ctr images import --no-unpack": [], "ctr images import": []}
        for _ in range(args.runs):
            for name in loads:
                common.sh(*ctr, "images", "rm", "--sync", image, check=False)
                if name.startswith("ctr"):
                    extra = ["--no-unpack"] if "no-unpack" in name else []
                    seconds, _ = timed_rss(ctr + ["images", "import"] + extra + [archive])
                else:
                    tool = kim_local if "socket" in name else kim_agent
                    seconds, peak = timed_rss(tool + ["load", "-i", archive])
                    if name in rss:
                        rss[name].append(peak)
                loads[name].append(seconds)
        agent_peak = common.rss_kb(agent.pid, "VmHWM")

        print(f"save-load: {size_mb:.0f} MB in 5 layers, archive on tmpfs, {args.runs} "
              f"interleaved runs (median, min-max)")
        for name, values in list(saves.items()) + list(loads.items()):
            print(common.summary(name, values))
        for kim_name, ctr_name in (("kim save (agent)", "ctr images export"),
                                   ("kim save (socket)", "ctr images export"),
                                   ("kim load (agent)", "ctr images import --no-unpack"),
                                   ("kim load (socket)", "ctr images import --no-unpack"),
                                   ("kim load (agent)", "ctr images import")):
            table = saves if kim_name.startswith("kim save") else loads
            ratio = statistics.median(table[kim_name]) / statistics.median(table[ctr_name])
            print(f"  ratio {kim_name} / {ctr_name}: {ratio:.2f}x (goal <= 1.0x)")
            if ctr_name != "ctr images import":
                failed |= ratio > 1.0
        for name, values in rss.items():
            print(f"  peak RSS {name}: {max(values) / 1024:.1f} MB (goal < 64 MB)")
            failed |= max(values) > 64 * 1024
        print(f"  kim-agent peak RSS over all runs: {agent_peak / 1024:.1f} MB")
    finally:
        if agent:
            agent.terminate()
            agent.wait()
        subprocess.run(["rm", "-rf", work, pki])
        subprocess.run([os.path.join(REPO, "scripts/peers"), "down", env["KIM_PEERS_DIR"]],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
