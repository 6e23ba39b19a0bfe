#!/usr/bin/env python3
"""kim's image commands side by side with containerd's ctr, on the same containerd and registry.

  list:  `kim --containerd-socket S images` against `ctr images ls` (and `ls -q`), 200 distinct
         images (each its own config).
  push:  a ~200 MB image of 5 layers, `kim push` against `ctr images push`, each run to a fresh
         empty registry on tmpfs (so that bytes really move), interleaved.
  pull:  that image, `kim pull` against `ctr images pull` (both unpack), removed before each.
  agent: kim-agent's RSS idle, and its peak while it serves that push for the CLI.

Needs the peers (it starts `scripts/peers up registry containerd` itself) and a built kim.
Prints medians (min-max) and the ratios kim/ctr; goals: list <= 0.5x, push <= 1.0x (layers sent
as stored, as ctr does), pull <= 1.05x ctr, agent idle RSS <= 15 MB.
"""
import argparse
import hashlib
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIM = os.path.join(REPO, "build/apps/kim/kim")
AGENT = os.path.join(REPO, "build/apps/kim-agent/kim-agent")
CACHE = os.path.expanduser("~/.cache/kim-bench")


def sh(*argv, env=None, check=True, quiet=True):
    return subprocess.run(argv, env=env, check=check, text=True,
                          stdout=subprocess.PIPE if quiet else None,
                          stderr=subprocess.PIPE if quiet else None)


def timed(argv, env=None):
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{result.stderr}")
    return elapsed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peers_up():
    out = sh(os.path.join(REPO, "scripts/peers"), "up", "registry", "containerd").stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            key, value = line[len("export "):].split("=", 1)
            env[key] = value.strip("'")
    return env


def big_image_layout(layers=5, layer_mb=40):
    """An OCI layout with `layers` uncompressed layers of random bytes (cached)."""
    layout = os.path.join(CACHE, f"big-{layers}x{layer_mb}")
    if os.path.exists(os.path.join(layout, "index.json")):
        return layout
    tmp = layout + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    blobs = os.path.join(tmp, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + digest, "size": len(data)}

    layer_descs, diff_ids = [], []
    for i in range(layers):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            payload = os.urandom(layer_mb * 1000 * 1000)
            info = tarfile.TarInfo(f"data/layer-{i}.bin")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        desc = put(buf.getvalue())
        desc["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
        layer_descs.append(desc)
        diff_ids.append(desc["digest"])
    config = put(json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode())
    config["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = put(json.dumps({"schemaVersion": 2,
                               "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": config, "layers": layer_descs}).encode())
    manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    manifest["annotations"] = {"org.opencontainers.image.ref.name": "1"}
    with open(os.path.join(tmp, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(tmp, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [manifest]}, f)
    os.rename(tmp, layout)
    return layout


def distinct_images_archive(count):
    """An OCI archive of `count` images named bench.local/list/app-NNN:v1, each its own config
    (and so its own image ID) over one shared 1 KB layer (cached)."""
    archive = os.path.join(CACHE, f"distinct-{count}.tar")
    if os.path.exists(archive):
        return archive
    blobs = {}

    def put(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        payload = b"x" * 1024
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    layer = put(buf.getvalue())
    layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
    entries = []
    for i in range(count):
        config = put(json.dumps({
            "architecture": "amd64", "os": "linux", "created": f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z",
            "config": {"Labels": {"bench.index": str(i)}},
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode())
        config["mediaType"] = "application/vnd.oci.image.config.v1+json"
        manifest = put(json.dumps({"schemaVersion": 2,
                                   "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "config": config, "layers": [layer]}).encode())
        manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
        manifest["annotations"] = {
            "io.containerd.image.name": f"bench.local/list/app-{i:03d}:v1",
            "org.opencontainers.image.ref.name": "v1"}
        entries.append(manifest)
    os.makedirs(CACHE, exist_ok=True)
    tmp = archive + ".tmp"
    with tarfile.open(tmp, "w") as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        for digest, data in blobs.items():
            add("blobs/sha256/" + digest[7:], data)
        add("index.json", json.dumps({"schemaVersion": 2, "manifests": entries}).encode())
    os.rename(tmp, archive)
    return archive


class Registry:
    """A throwaway docker-registry on tmpfs."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kim-bench-registry-", dir="/dev/shm")
        self.port = free_port()
        with open(os.path.join(self.dir, "config.yml"), "w") as f:
            f.write(f"version: 0.1\nlog: {{level: error}}\nstorage:\n  filesystem: "
                    f"{{rootdirectory: {self.dir}/data}}\nhttp:\n  addr: 127.0.0.1:{self.port}\n"
                    f"  secret: bench\n")
        self.proc = subprocess.Popen(["docker-registry", "serve", f"{self.dir}/config.yml"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("bench registry did not start")

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def rss_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def summary(name, values, unit="s"):
    return (f"  {name:34} {statistics.median(values):8.3f} {unit}  "
            f"({min(values):.3f}-{max(values):.3f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--names", type=int, default=200)
    parser.add_argument("--only", choices=["list", "push", "pull", "agent"], action="append")
    args = parser.parse_args()
    only = set(args.only or ["list", "push", "pull", "agent"])

    env = peers_up()
    sock = env["KIM_TEST_CONTAINERD_SOCKET"]
    registry = env["KIM_TEST_REGISTRY"]
    ctr = ["ctr", "-a", sock, "-n", "k8s.io"]
    kim = [KIM, "--containerd-socket", sock]
    failed = False
    try:
        if "list" in only:
            # Distinct images, each with its own config blob (one shared small layer), so that
            # every listed image costs its own reads, as a node's real images do.
            archive = distinct_images_archive(args.names)
            sh(*ctr, "images", "import", "--no-unpack", archive)
            names = len(sh(*ctr, "images", "ls", "-q").stdout.split())
            times = {"kim images": [], "ctr images ls": [], "ctr images ls -q": []}
            for _ in range(args.runs * 2):
                times["kim images"].append(timed(kim + ["images"]))
                times["ctr images ls"].append(timed(ctr + ["images", "ls"]))
                times["ctr images ls -q"].append(timed(ctr + ["images", "ls", "-q"]))
            print(f"list: {names} image names, {args.runs * 2} interleaved runs (median, min-max)")
            for name, values in times.items():
                print(summary(name, values))
            ratio = statistics.median(times["kim images"]) / statistics.median(times["ctr images ls"])
            print(f"  ratio kim images / ctr images ls: {ratio:.2f}x (goal <= 0.5x)")
            failed |= ratio > 0.5

        if only & {"push", "pull", "agent"}:
            layout = big_image_layout()
            size_mb = sum(os.path.getsize(os.path.join(layout, "blobs/sha256", b))
                          for b in os.listdir(os.path.join(layout, "blobs/sha256"))) / 1e6
            sh("skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:1",
               f"docker://{registry}/big:1")
            sh(*ctr, "images", "pull", "--plain-http", f"{registry}/big:1")

        if "push" in only:
            times = {"kim push": [], "ctr images push": []}
            for i in range(args.runs):
                for tool in ("kim push", "ctr images push"):
                    target_registry = Registry()
                    target = f"127.0.0.1:{target_registry.port}/big:{i}"
                    sh(*ctr, "images", "tag", "--force", f"{registry}/big:1", target)
                    if tool == "kim push":  # the same bytes as ctr: layers as stored
                        times[tool].append(timed(kim + ["push", "--compression", "uncompressed",
                                                        target]))
                    else:
                        times[tool].append(timed(ctr + ["images", "push", "--plain-http", target]))
                    sh(*ctr, "images", "rm", target)
                    target_registry.close()
            print(f"push: {size_mb:.0f} MB in 5 layers to a fresh registry on tmpfs, "
                  f"{args.runs} interleaved runs")
            for name, values in times.items():
                print(summary(name, values))
            ratio = statistics.median(times["kim push"]) / statistics.median(times["ctr images push"])
            print(f"  ratio kim push / ctr images push: {ratio:.2f}x (goal <= 1.0x)")
            failed |= ratio > 1.0

        if "pull" in only:
            times = {"kim pull": [], "ctr images pull": []}
            source = f"{registry}/big:1"
            for i in range(args.runs):
                order = ("kim pull", "ctr images pull") if i % 2 == 0 else ("ctr images pull", "kim pull")
                for tool in order:
                    # Nothing of the image left: every byte is fetched, then unpacked (both do).
                    sh(*ctr, "images", "rm", "--sync", source, check=False)
                    if tool == "kim pull":
                        times[tool].append(timed(kim + ["pull", source]))
                    else:
                        times[tool].append(timed(ctr + ["images", "pull", "--plain-http", source]))
            print(f"pull: {size_mb:.0f} MB in 5 layers from the registry, unpacked, "
                  f"{args.runs} interleaved runs")
            for name, values in times.items():
                print(summary(name, values))
            ratio = statistics.median(times["kim pull"]) / statistics.median(times["ctr images pull"])
            print(f"  ratio kim pull / ctr images pull: {ratio:.2f}x (goal <= 1.05x)")
            failed |= ratio > 1.05
            sh(*ctr, "images", "pull", "--plain-http", source)

        if "agent" in only:
            port = free_port()
            agent = subprocess.Popen([AGENT, "--listen", f"127.0.0.1:{port}", "--insecure",
                                      "--containerd-socket", sock],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(1.5)
                idle = rss_kb(agent.pid, "VmRSS")
                target_registry = Registry()
                target = f"127.0.0.1:{target_registry.port}/big:agent"
                sh(*ctr, "images", "tag", "--force", f"{registry}/big:1", target)
                seconds = timed([KIM, "--agent-addr", f"127.0.0.1:{port}", "push",
                                 "--compression", "uncompressed", target])
                peak = rss_kb(agent.pid, "VmHWM")
                target_registry.close()
            finally:
                agent.terminate()
                agent.wait()
            print(f"agent: idle RSS {idle / 1024:.1f} MB (goal <= 15 MB); peak RSS during a "
                  f"{size_mb:.0f} MB push through it {peak / 1024:.1f} MB ({seconds:.2f} s)")
            failed |= idle > 15 * 1024
    finally:
        subprocess.run([os.path.join(REPO, "scripts/peers"), "down", env["KIM_PEERS_DIR"]],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
