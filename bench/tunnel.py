#!/usr/bin/env python3
"""kim's two routes to the builder side by side on a lab cluster: direct (`--tunnel never`, gRPC
to the node address) against the port-forward tunnel through the API server (`--tunnel always`):

  small:  `kim build --no-cache` of 20,000 files of 1-4 KB in 200 directories (~50 MB)
  big:    the same of ~1 GB in 4 files
  images: `kim images` latency (discovery + connect + list)
  raw:    1 GiB of raw bytes to a sink in the node's network, through kim's tunnel alone
          (build/test/kim-port-forward) against `kubectl port-forward`, interleaved

The builds are `FROM scratch` + `COPY . /ctx/` with no output (context upload + COPY), the
contexts those of bench/build.py. Before each build: BuildKit's cache pruned (`buildctl prune
--all` in the builder pod, so every upload is full), the context re-read into the page cache,
sync and a short pause. Direct and tunnel alternate which goes first. Everything runs on the
host, where both routes work.

Brings up its own lab (`scripts/lab up`, one node), installs kim, and downs the lab at the end,
also on failure. Prints medians (min-max), the ratio tunnel/direct (goal <= 1.25 for both
uploads), the kim client's CPU time (user+sys) and peak RSS per route, and the CPU time of the
processes on the way (kube-apiserver, the node's kubelet, containerd, buildkitd). The whole cluster
runs on this machine, so run it idle: it warns when the load average exceeded 1 during a case.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
from build import CACHE, make_big, make_small  # noqa: E402  (the same contexts as bench/build)

NS = "kube-image"
SELECTOR = "app.kubernetes.io/name=kim,app.kubernetes.io/component=builder"
BUILDKIT_SOCKET = "unix:///run/buildkit/buildkitd.sock"  # lib/kube/installer_objects.h
ROUTES = {"direct": "never", "tunnel": "always"}
GOAL = 1.25


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def lab_up(*args):
    """Brings up a lab (`scripts/lab up ARGS...`) and returns its exported variables."""
    log(f"bench: scripts/lab up {' '.join(args)} (builds what is missing first; minutes when cold)")
    result = subprocess.run([os.path.join(REPO, "scripts/lab"), "up", *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"bench: scripts/lab up failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    lab = {}
    for line in result.stdout.splitlines():
        if line.startswith("export "):
            key, value = line[len("export "):].split("=", 1)
            lab[key] = value.split("#", 1)[0].strip().strip("'")
    for key in ("KIM_LAB_DIR", "KUBECONFIG", "KIM_LAB_KUBECTL"):
        if not lab.get(key):
            lab_down(lab)
            sys.exit(f"bench: scripts/lab up printed no {key}:\n{result.stdout}")
    return lab


def lab_down(lab):
    if not lab.get("KIM_LAB_DIR"):
        return
    log(f"bench: scripts/lab down {lab['KIM_LAB_DIR']}")
    result = subprocess.run([os.path.join(REPO, "scripts/lab"), "down", lab["KIM_LAB_DIR"]],
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        log(f"bench: scripts/lab down failed (exit {result.returncode}):\n{result.stdout[-4000:]}")


class Runner:
    def __init__(self, kim, lab, work):
        self.kim = kim
        self.lab = lab
        self.server = None  # after the install, when the builder's processes exist
        self.env = dict(os.environ)
        for key in ("KIM_TUNNEL", "KIM_AGENT_ADDR", "KIM_BUILDKIT_ADDR", "KIM_CONTAINERD_SOCKET"):
            self.env.pop(key, None)
        self.env["KUBECONFIG"] = lab["KUBECONFIG"]
        self.env["XDG_CACHE_HOME"] = os.path.join(work, "cache")
        self.env["DOCKER_CONFIG"] = os.path.join(work, "docker")
        os.makedirs(self.env["DOCKER_CONFIG"], exist_ok=True)
        self.out = os.path.join(work, "out.log")

    def must(self, argv, what):
        result = subprocess.run(argv, env=self.env, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        if result.returncode != 0:
            raise RuntimeError(f"{what} failed (exit {result.returncode}): {' '.join(argv)}\n"
                               f"{result.stdout[-4000:]}")
        return result.stdout

    def kubectl(self, *args, what="kubectl"):
        return self.must([self.lab["KIM_LAB_KUBECTL"], "--request-timeout=60s", *args], what)

    def timed(self, argv):
        """Runs argv (output to a file); returns (seconds, user+sys CPU seconds, peak RSS MB,
        user CPU seconds, sys CPU seconds)."""
        if self.server is None:
            self.server = ServerCpu(self.lab["KIM_LAB_DIR"])
        before = self.server.read()
        with open(self.out, "w") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, env=self.env, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            with open(self.out) as f:
                tail = f.read()[-4000:]
            raise RuntimeError(f"{' '.join(argv)} failed (exit {os.waitstatus_to_exitcode(status)}):\n{tail}")
        after = self.server.read()
        server = {name: after[name] - before.get(name, 0.0) for name in after}
        return (elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, usage.ru_utime,
                usage.ru_stime, server)

    def builder_pod(self):
        names = self.kubectl("-n", NS, "get", "pods", "-l", SELECTOR, "-o",
                             "jsonpath={.items[*].metadata.name}", what="listing the builder pods").split()
        if not names:
            raise RuntimeError(f"no builder pod in namespace {NS} (selector {SELECTOR})")
        return names[0]

    def prune(self):
        self.kubectl("-n", NS, "exec", self.builder_pod(), "-c", "buildkitd", "--", "buildctl",
                     "--addr", BUILDKIT_SOCKET, "prune", "--all", what="buildctl prune --all in the builder pod")


def _stat(pid):
    """(comm, ppid, utime+stime in seconds) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    fields = data[data.rindex(")") + 2:].split()
    return comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU seconds used by the processes that carry the tunnel: the lab's kube-apiserver and the
    node's kubelet and containerd (found under the lab's node-0 process), read from /proc."""

    NAMES = ("kube-apiserver", "kubelet", "containerd", "buildkitd")

    def __init__(self, lab_dir):
        self.pids = {}
        tops = {}
        with open(os.path.join(lab_dir, "pids")) as f:
            for line in f:
                name, _, pid = line.strip().partition(" ")
                if name in ("kube-apiserver", "node-0") and pid.isdigit():
                    tops[name] = int(pid)
        if "kube-apiserver" in tops:
            self.pids["kube-apiserver"] = tops["kube-apiserver"]
        if "node-0" in tops:
            parent = {}
            for entry in os.listdir("/proc"):
                if entry.isdigit() and (st := _stat(entry)) is not None:
                    parent[int(entry)] = (st[1], st[0])
            for pid, (ppid, comm) in sorted(parent.items()):
                if comm not in self.NAMES or comm in self.pids:
                    continue
                up, seen = ppid, 0
                while up > 1 and up != tops["node-0"] and seen < 64:
                    up, seen = parent.get(up, (0, ""))[0], seen + 1
                if up == tops["node-0"]:
                    self.pids[comm] = pid

    def read(self):
        return {name: (st[2] if (st := _stat(pid)) else 0.0) for name, pid in self.pids.items()}


def summary(values, unit=""):
    return f"{statistics.median(values):8.3f}{unit} ({min(values):.3f}-{max(values):.3f})"


LOADS = []  # the 1-minute load average after each measured run


def report(name, results, goal):
    """results: route -> list of (seconds, cpu, rss, ...). Prints medians and the ratio."""
    for route in ROUTES:
        rows = results[route]
        print(f"{name:6s} {route:6s} {summary([r[0] for r in rows], ' s')}   client CPU "
              f"{summary([r[1] for r in rows], ' s')}   peak RSS {max(r[2] for r in rows):5.1f} MB")
    for route in ROUTES:
        rows = results[route]
        names = sorted(rows[0][5]) if rows and len(rows[0]) > 5 else []
        if names:
            print(f"{name:6s} {route:6s} server CPU (median s): " + ", ".join(
                f"{n} {statistics.median(r[5].get(n, 0.0) for r in rows):.2f}" for n in names))
    ratio = statistics.median(r[0] for r in results["tunnel"]) / \
        statistics.median(r[0] for r in results["direct"])
    cpu_ratio = statistics.median(r[1] for r in results["tunnel"]) / \
        max(statistics.median(r[1] for r in results["direct"]), 1e-9)
    goal_text = f" (goal <= {goal:.2f})" if goal else ""
    print(f"{name:6s} ratio tunnel/direct {ratio:.2f}{goal_text}   client CPU ratio {cpu_ratio:.2f}",
          flush=True)
    if LOADS and max(LOADS) > 1.0:
        # everything (API server, kubelet, buildkitd, kim) shares this machine's cores: other
        # work moves these figures by a factor of 2 and more (seen with a compile beside it)
        print(f"{name:6s} WARNING: load average up to {max(LOADS):.1f} during the runs: the machine "
              f"was not idle, figures are unreliable", flush=True)
    LOADS.clear()


def bench_build(runner, name, context, runs):
    results = {route: [] for route in ROUTES}
    for run in range(runs):
        order = list(ROUTES) if run % 2 == 0 else list(reversed(ROUTES))
        for route in order:
            runner.prune()
            subprocess.run(f"tar cf - -C '{context}' . | cat > /dev/null", shell=True, check=True)
            os.sync()
            time.sleep(1)
            row = runner.timed([runner.kim, "build", "--tunnel", ROUTES[route], "--no-cache",
                                "--progress", "plain", context])
            results[route].append(row)
            LOADS.append(os.getloadavg()[0])
            log(f"  {name} run {run + 1} {route:6s} {row[0]:7.2f} s  CPU {row[1]:6.2f} s (user {row[3]:.2f}, "
                f"sys {row[4]:.2f})  {row[2]:5.1f} MB  load {os.getloadavg()[0]:.1f}  server CPU "
                + " ".join(f"{n} {v:.2f}" for n, v in sorted(row[5].items())))
    report(name, results, GOAL)


def bench_images(runner, runs):
    results = {route: [] for route in ROUTES}
    for route in ROUTES:  # one warm-up each (page cache, the API server's caches)
        runner.timed([runner.kim, "images", "--tunnel", ROUTES[route]])
    for run in range(runs):
        order = list(ROUTES) if run % 2 == 0 else list(reversed(ROUTES))
        for route in order:
            results[route].append(runner.timed([runner.kim, "images", "--tunnel", ROUTES[route]]))
            LOADS.append(os.getloadavg()[0])
    for route in ROUTES:
        log(f"  images {route:6s} " + " ".join(f"{r[0] * 1000:.0f}" for r in results[route]) + " ms")
    report("images", results, None)


SINK = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); print("listening", flush=True)
while True:
    c, _ = s.accept(); n = 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        n += len(b)
    c.close(); print(n, flush=True)
"""


def send_gib(port, sink):
    """Sends 1 GiB to 127.0.0.1:port and waits until the sink has counted it all (a port-forward
    has no half-close: the node closes the pod's end when the client's ends, so the sink says
    what it got on its standard output); returns the seconds taken."""
    import socket
    conn = socket.create_connection(("127.0.0.1", port), timeout=120)
    chunk = b"\xab" * (1 << 20)
    start = time.perf_counter()
    for _ in range(1024):
        conn.sendall(chunk)
    conn.shutdown(socket.SHUT_WR)
    got = sink.stdout.readline().strip()
    elapsed = time.perf_counter() - start
    conn.close()
    if got != str(1 << 30):
        raise RuntimeError(f"the sink counted {got or 'nothing'} bytes, not 1 GiB")
    return elapsed


def start_forward(argv, env, pattern):
    """Starts a port-forwarding program, returns (process, local port) once it prints one."""
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    if pattern not in line:
        proc.kill()
        raise RuntimeError(f"{' '.join(argv)} printed {line!r}")
    port = int(line.split("127.0.0.1:")[1].split()[0])
    return proc, port


def bench_raw(runner, runs):
    """1 GiB of raw bytes through the API server to a sink in the node's network (the builder
    pod's, hostNetwork): kim's tunnel (build/test/kim-port-forward) against kubectl port-forward,
    interleaved."""
    node_netns = os.path.join(runner.lab["KIM_LAB_DIR"], "node-0", "netns")
    port = 19999
    sink = subprocess.Popen(["nsenter", f"--net={node_netns}", sys.executable, "-c", SINK, str(port)],
                            stdout=subprocess.PIPE, text=True)
    tool = os.path.join(os.path.dirname(runner.kim), "..", "..", "test", "kim-port-forward")
    try:
        if "listening" not in sink.stdout.readline():
            raise RuntimeError("the sink in the node's network did not start")
        pod = runner.builder_pod()
        tools = {
            "kim": ([tool, NS, pod, str(port)], "127.0.0.1:"),
            "kubectl": ([runner.lab["KIM_LAB_KUBECTL"], "-n", NS, "port-forward", "--address", "127.0.0.1",
                         f"pod/{pod}", f":{port}"], "Forwarding from 127.0.0.1:"),
        }
        results = {name: [] for name in tools}
        for run in range(runs):
            order = list(tools) if run % 2 == 0 else list(reversed(tools))
            for name in order:
                argv, pattern = tools[name]
                proc, local = start_forward(argv, runner.env, pattern)
                before = os.times()
                try:
                    seconds = send_gib(local, sink)
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
                after = os.times()
                cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
                results[name].append(seconds)
                log(f"  raw run {run + 1} {name:8s} {seconds:6.2f} s  forwarder CPU {cpu:5.2f} s")
        for name in tools:
            values = results[name]
            print(f"raw    {name:8s} {statistics.median(values):7.3f} s ({min(values):.3f}-{max(values):.3f})"
                  f"   {1024 / statistics.median(values):6.0f} MiB/s", flush=True)
        ratio = statistics.median(results["kim"]) / statistics.median(results["kubectl"])
        print(f"raw    ratio kim/kubectl port-forward {ratio:.2f}", flush=True)
    finally:
        sink.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kim", default=os.path.join(REPO, "build/apps/kim/kim"))
    parser.add_argument("--runs", type=int, help="runs per route (default 3 for builds, 20 for images)")
    parser.add_argument("--only", choices=["small", "big", "images", "raw"])
    args = parser.parse_args()
    if not os.access(args.kim, os.X_OK):
        sys.exit(f"no kim binary at {args.kim} (build it, or pass --kim)")
    if os.geteuid() != 0:
        sys.exit("bench/tunnel needs root (scripts/lab up)")
    wanted = [args.only] if args.only else ["small", "big", "images", "raw"]
    contexts = {"small": os.path.join(CACHE, "build-small"), "big": os.path.join(CACHE, "build-big")}
    log(f"bench: preparing contexts in {CACHE}")
    if "small" in wanted:
        make_small(contexts["small"])
    if "big" in wanted:
        make_big(contexts["big"])

    # SIGTERM/SIGHUP end the run like Ctrl-C does, through the finally below (lab down)
    def stop(signum, _):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    lab = {}
    try:
        lab = lab_up()
        with tempfile.TemporaryDirectory(prefix="kim-bench-tunnel.") as work:
            runner = Runner(args.kim, lab, work)
            log("bench: kim system install")
            runner.must([args.kim, "system", "install", "--timeout", "180s"], "kim system install")
            runner.server = None
            for route, mode in ROUTES.items():  # both routes work before anything is measured
                runner.must([args.kim, "images", "--tunnel", mode], f"kim images --tunnel {mode} ({route})")
            for name in wanted:
                if name == "images":
                    bench_images(runner, args.runs or 20)
                elif name == "raw":
                    bench_raw(runner, args.runs or 3)
                else:
                    bench_build(runner, name, contexts[name], args.runs or 3)
    except RuntimeError as e:
        sys.exit(f"bench: {e}")
    except KeyboardInterrupt as e:
        sys.exit(f"bench: interrupted ({e})")
    finally:
        lab_down(lab)


if __name__ == "__main__":
    main()
