#!/usr/bin/env python3
"""Check throughput, side by side: Icinga 2 and Picket on the same generated configuration.

  bench/checks.py --services 100000 --interval 1s --check dummy
  bench/checks.py --services 10000 --interval 5s --check plugin
  bench/checks.py --services 100000 --interval 20s --check dummy --daemons picket   # lateness at a given load

The configuration comes from ../shared/bench/gen-config (N/10 hosts x 10 services,
host checks off). Each daemon is started on its own copy, warmed up for one
interval plus 10 s, then measured for a 60 s window:

  results/s      the daemon's own 1-minute counter of active service checks / 60
                 (Icinga: /v1/status/CIB; Picket: the control socket's status)
  per CPU-s      results in the window / CPU seconds of the daemon's process tree
                 in the window (forked plugins included)
  RSS            of the main process at the end, and per service
  lateness       Picket: p50/p99/max of (start - due) over every service's last
                 check; Icinga: avg/max latency from the CIB

Picket is ./target/release/picket (build it first: cargo build --release -p picket).
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "bench")
sys.path.insert(0, SHARED)
import benchlib  # noqa: E402

PICKET = os.path.join(HERE, "..", "target", "release", "picket")


def control(data_dir, request, timeout=60):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(os.path.join(data_dir, "control.sock"))
    s.sendall(json.dumps(request).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)


class Icinga:
    name = "icinga2"

    def __init__(self, d):
        self.d = d
        os.environ.setdefault("ICINGA2_USER", "root")
        os.environ.setdefault("ICINGA2_GROUP", "root")
        self.daemon = benchlib.Daemon(d, "icinga2 daemon -c {config} {defines}")
        self.api = benchlib.Api(benchlib.load_meta(d))

    def start(self):
        self.daemon.start()
        self.api.wait_ready(proc=self.daemon.proc)

    def status(self):
        cib = self.api.cib()
        return dict(rate=cib["active_service_checks_1min"] / 60.0,
                    latency=dict(avg=cib.get("avg_latency"), max=cib.get("max_latency")))


class Picket:
    name = "picket"

    def __init__(self, d):
        self.d = d
        self.data = os.path.join(d, "var", "lib")
        self.daemon = benchlib.Daemon(d, PICKET + " daemon -c {config} {defines}")

    def start(self):
        self.daemon.start()
        deadline = time.time() + 900
        while time.time() < deadline:
            if self.daemon.proc.poll() is not None:
                raise SystemExit("picket stopped; see " + self.daemon.log_path)
            try:
                control(self.data, "Status")
                return
            except (OSError, ValueError):
                time.sleep(0.2)
        raise SystemExit("picket never answered")

    def status(self):
        s = control(self.data, "Status")["data"]
        return dict(rate=s["active_service_checks_1min"] / 60.0,
                    latency=dict(p50=s["lateness_p50"], p99=s["lateness_p99"], max=s["lateness_max"]))


def seconds(interval):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for u in ("ms", "s", "m", "h"):
        if interval.endswith(u):
            return float(interval[: -len(u)]) * units[u]
    return float(interval)


def run(kind, args, template):
    d = tempfile.mkdtemp(prefix="pkt-bench-%s-" % kind.name)
    shutil.rmtree(d)
    shutil.copytree(template, d)
    daemon = kind(d)
    t0 = time.time()
    daemon.start()
    ready = time.time() - t0
    time.sleep(seconds(args.interval) + 10)
    cpu0 = benchlib.tree_stats(daemon.daemon.proc.pid)["cpu_s"]
    w0 = time.time()
    time.sleep(args.window)
    cpu1 = benchlib.tree_stats(daemon.daemon.proc.pid)
    window = time.time() - w0
    st = daemon.status()
    cpu = cpu1["cpu_s"] - cpu0
    rate = st["rate"]
    out = dict(daemon=kind.name, services=args.services, interval=args.interval, check=args.check,
               ready_s=round(ready, 1), results_per_s=round(rate, 1),
               cpu_percent=round(100 * cpu / window, 1),
               results_per_cpu_s=round(rate * window / cpu, 1) if cpu > 0 else None,
               rss_main_mib=round(cpu1["rss_max_proc"] / 2**20, 1),
               rss_per_service_kib=round(cpu1["rss_max_proc"] / 1024 / args.services, 2),
               latency=st["latency"])
    daemon.daemon.stop()
    shutil.rmtree(d, ignore_errors=True)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--services", type=int, default=10000)
    p.add_argument("--interval", default="10s")
    p.add_argument("--check", choices=["dummy", "plugin"], default="dummy")
    p.add_argument("--window", type=float, default=60)
    p.add_argument("--daemons", default="icinga2,picket")
    p.add_argument("--max-concurrent-checks", type=int, default=512)
    args = p.parse_args()
    template = tempfile.mkdtemp(prefix="pkt-bench-config-")
    subprocess.run([os.path.join(SHARED, "gen-config"), "--out", template, "--hosts", str(max(1, args.services // 10)),
                    "--services-per-host", "10", "--interval", args.interval, "--check", args.check,
                    "--no-active-host-checks", "--max-concurrent-checks", str(args.max_concurrent_checks)],
                   check=True, stdout=subprocess.DEVNULL)
    kinds = {"icinga2": Icinga, "picket": Picket}
    for name in args.daemons.split(","):
        print(json.dumps(run(kinds[name], args, template)), flush=True)
    shutil.rmtree(template, ignore_errors=True)


if __name__ == "__main__":
    main()
