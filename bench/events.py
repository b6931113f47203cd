#!/usr/bin/env python3
"""Events per second through /v1/events, side by side: Icinga 2 and Picket on
the same generated configuration (../shared/bench/gen-config, N/10 hosts x 10
services with the built-in dummy check, host checks off).

  bench/events.py --services 100000 --interval 5s
  bench/events.py --services 10000 --interval 1s --window 30

Each daemon is started, warmed up for one interval plus 10 s, then one client
reads `POST /v1/events?types=CheckResult` for --window seconds (lines counted,
not parsed, so the reader is not the bottleneck). Reported: events/s received,
the daemon's own active check rate in the same window (CIB
active_service_checks_1min / 60), bytes/s, the daemon's CPU % and main RSS.

Picket is ./target/release/picket (build it first).
"""
import argparse
import base64
import http.client
import os
import ssl
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.join(here, "..", "..", "shared", "bench")
sys.path.insert(0, shared)
import benchlib  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--services", type=int, default=100000)
ap.add_argument("--interval", default="5s")
ap.add_argument("--window", type=int, default=30)
ap.add_argument("--daemons", default="icinga,picket")
a = ap.parse_args()

picket = os.path.join(here, "..", "target", "release", "picket")
commands = {
    "icinga": "icinga2 daemon -c {config} {defines}",
    "picket": picket + " daemon -c {config} {defines}",
}
seconds = float(a.interval.rstrip("s")) if a.interval.endswith("s") else float(a.interval)


def stream(meta, window):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", meta["port"], context=ctx, timeout=30)
    auth = base64.b64encode(f"{meta['api_user']}:{meta['password']}".encode()).decode()
    conn.request("POST", "/v1/events?types=CheckResult&queue=bench",
                 headers={"Accept": "application/json", "Authorization": "Basic " + auth})
    resp = conn.getresponse()
    assert resp.status == 200, resp.status
    end = time.monotonic() + window
    lines = size = 0
    while time.monotonic() < end:
        line = resp.readline()
        if not line:
            break
        lines += 1
        size += len(line)
    conn.close()
    return lines, size


print("| daemon | services | interval | events/s | checks/s (CIB) | MB/s | CPU % | RSS largest process MiB |")
print("|---|---|---|---|---|---|---|---|")
for name in a.daemons.split(","):
    work = tempfile.mkdtemp(prefix=f"picket-events-{name}.")
    subprocess.run([os.path.join(shared, "gen-config"), "--out", work, "--hosts", str(a.services // 10),
                    "--services-per-host", "10", "--interval", a.interval, "--check", "dummy",
                    "--no-active-host-checks"], check=True, stdout=subprocess.DEVNULL)
    d = benchlib.Daemon(work, commands[name])
    d.start()
    api = benchlib.Api(d.meta)
    if api.wait_ready(deadline_s=600, proc=d.proc) is None:
        print(f"| {name} | did not get ready |")
        d.stop()
        continue
    time.sleep(seconds + 10)
    before = d.stats()
    t0 = time.monotonic()
    lines, size = stream(d.meta, a.window)
    dt = time.monotonic() - t0
    after = d.stats()
    rate = api.cib().get("active_service_checks_1min", 0) / 60
    cpu = 100 * (after["cpu_s"] - before["cpu_s"]) / dt
    rss = after["rss_max_proc"] / 2**20
    print(f"| {name} | {a.services} | {a.interval} | {lines / dt:,.0f} | {rate:,.0f} | {size / dt / 1e6:.1f} "
          f"| {cpu:.0f} | {rss:,.0f} |", flush=True)
    d.stop()
