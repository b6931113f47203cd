#!/usr/bin/env python3
"""Notification scenarios, run against one daemon (Icinga 2 or Picket)
started with tests/notifications/icinga2.conf.

usage: scenarios.py BASE_URL NOTIFY_LOG OUT_JSON

BASE_URL is the REST API (https, root:rootpw, the certificate is not
checked); NOTIFY_LOG is the file the daemon's notification command
appends to (-D NotifyLog=...). Every scenario has its own host, so all of
them run at once, each in its own thread. A scenario is a list of steps:
an action (check result, acknowledgement, downtime, API call), then a
wait; the notification lines that arrived during a step are recorded with
it (sorted, since notifications to several users go out in parallel).
Notification attributes are recorded at chosen points with timestamps
turned into booleans or categories, and times measured by the scenario
are reduced to yes/no checks, so that OUT_JSON is the same on every run.

Standard library only.
"""
import base64
import http.client
import json
import ssl
import sys
import threading
import time
import traceback
import urllib.parse

BASE = None
AUTH = "Basic " + base64.b64encode(b"root:rootpw").decode()

# Waits: W for notifications caused directly by a request (they go out at
# once, but asynchronously); T for those sent by a 5 s timer.
W = 1.5
T = 6.5


def request(method, path, body=None, raw=False):
    """One request; returns (status, parsed JSON or raw text), or with
    raw=True (status, parsed, body text)."""
    url = urllib.parse.urlsplit(BASE)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=30)
    headers = {"Accept": "application/json", "Authorization": AUTH}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return (resp.status, parsed, text) if raw else (resp.status, parsed)
    finally:
        conn.close()


def action(name, body, expect=200):
    status, answer = request("POST", "/v1/actions/" + name, body)
    if expect is not None and status != expect:
        raise RuntimeError(f"{name} {json.dumps(body)} answered {status}: {answer}")
    return status, answer


def program_start():
    """When the daemon started (status/IcingaApplication), else when it
    first answered."""
    try:
        status, answer = request("GET", "/v1/status/IcingaApplication")
        if status == 200:
            return answer["results"][0]["status"]["icingaapplication"]["app"]["program_start"]
    except (OSError, KeyError, IndexError, TypeError, ValueError):
        pass
    return UP_AT


UP_AT = None


def wait_until_up():
    deadline = time.time() + 60
    while True:
        try:
            status, _ = request("GET", "/v1")
            if status == 200:
                global UP_AT
                UP_AT = time.time()
                return
        except OSError:
            pass
        if time.time() > deadline:
            raise RuntimeError("the daemon did not answer GET /v1 with 200 within 60 s")
        time.sleep(0.5)


class Tail(threading.Thread):
    """Reads NOTIFY_LOG as it grows; keeps (arrival time, line)."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.lines = []
        self.lock = threading.Lock()
        self.read_lock = threading.Lock()  # poll() runs from every thread
        self.offset = 0
        self.rest = b""
        self.stopped = False

    def poll(self):
        with self.read_lock:
            try:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    chunk = f.read()
            except FileNotFoundError:
                return
            self.offset += len(chunk)
            data = self.rest + chunk
            *done, self.rest = data.split(b"\n")
            now = time.time()
            with self.lock:
                for line in done:
                    self.lines.append((now, line.decode("utf-8", "replace")))

    def run(self):
        while not self.stopped:
            self.poll()
            time.sleep(0.05)

    def snapshot(self):
        with self.lock:
            return list(self.lines)


TAIL = None


def fields(line):
    """type|user|host|service|author|comment|state|notification"""
    return line.split("|")


class Scenario:
    """One scenario: a host, and the services (None: the host itself)
    whose notification lines belong to it."""

    def __init__(self, key, host, services, description):
        self.key = key
        self.host = host
        self.services = services
        self.description = description
        self.steps = []
        self.attrs = {}
        self.checks = {}
        self.answers = {}
        self.seen = 0  # lines of this scenario already given to a step
        self.error = None

    # -- lines -------------------------------------------------------------

    def mine(self):
        out = []
        for t, line in TAIL.snapshot():
            f = fields(line)
            if len(f) < 3 or f[2] != self.host:
                continue
            svc = f[3] if len(f) > 3 and f[3] else None
            if svc in self.services:
                out.append((t, line))
        return out

    def step(self, label, wait=None, until=None):
        """Waits, then records the lines that arrived since the last step."""
        if until is None:
            until = time.time() + (wait or 0)
        delay = until - time.time()
        if delay > 0:
            time.sleep(delay)
        TAIL.poll()
        lines = self.mine()
        new = lines[self.seen:]
        self.seen = len(lines)
        self.steps.append({"step": label, "lines": sorted(l for _, l in new)})
        return new

    def wait_for(self, predicate, timeout):
        """Polls until a line of this scenario not yet given to a step
        satisfies predicate; returns its arrival time or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            TAIL.poll()
            for t, line in self.mine()[self.seen:]:
                if predicate(fields(line)):
                    return t
            time.sleep(0.1)
        return None

    # -- actions -----------------------------------------------------------

    def target(self, service):
        if service is None:
            return {"type": "Host", "host": self.host}
        return {"type": "Service", "service": f"{self.host}!{service}"}

    def result(self, service, exit_status, output=None):
        body = self.target(service)
        body.update(exit_status=exit_status,
                    plugin_output=output or f"state {exit_status} for {service or self.host}")
        action("process-check-result", body)

    def ack(self, service, author="alice", comment="on it now", notify=True, sticky=False):
        body = self.target(service)
        body.update(author=author, comment=comment, notify=notify, sticky=sticky)
        action("acknowledge-problem", body)

    def custom(self, service, author="bob", comment="hello there", force=None):
        body = self.target(service)
        body.update(author=author, comment=comment)
        if force is not None:
            body["force"] = force
        return action("send-custom-notification", body)

    def downtime(self, service, start, end, author="dana", comment="planned work"):
        body = self.target(service)
        body.update(author=author, comment=comment, start_time=start, end_time=end, fixed=True)
        _, answer = action("schedule-downtime", body)
        return answer["results"][0]["name"]

    # -- attributes --------------------------------------------------------

    def notification_objects(self):
        attrs = ["host_name", "service_name", "interval", "notification_number",
                 "last_notification", "last_problem_notification", "next_notification",
                 "no_more_notifications", "notified_problem_users"]
        query = "&".join("attrs=" + a for a in attrs)
        status, answer = request("GET", "/v1/objects/notifications?" + query)
        if status != 200:
            raise RuntimeError(f"GET notifications answered {status}: {answer}")
        out = {}
        for r in answer["results"]:
            a = r["attrs"]
            if a["host_name"] != self.host:
                continue
            if (a.get("service_name") or None) not in self.services:
                continue
            out[r["name"]] = a
        return out

    def snapshot(self, label, delayed_to=None, vary=()):
        """Records the notification attributes, normalised. For the
        notifications in vary, notification_number depends on how many
        timer ticks fell into a window, so it is not recorded (the
        scenario checks it against the lines instead)."""
        now = time.time()
        out = {}
        for name, a in sorted(self.notification_objects().items()):
            nn = a["next_notification"]
            interval = a["interval"]
            if nn == 0:
                nxt = "zero"
            elif delayed_to is not None and abs(nn - delayed_to) < 0.001:
                nxt = "equals delay timestamp"
            elif nn <= now + interval + 0.5:
                nxt = "due (not later than now + interval)"
            else:
                nxt = "later than now + interval"
            out[name] = {
                "notification_number": "(varies, see checks)" if name in vary else a["notification_number"],
                "last_notification_set": a["last_notification"] > 0,
                "last_problem_notification_set": a["last_problem_notification"] > 0,
                "next_notification": nxt,
                "no_more_notifications": a["no_more_notifications"],
                "notified_problem_users": sorted(a["notified_problem_users"] or []),
            }
        self.attrs[label] = out
        return out

    def raw_notification(self, service, short="n"):
        name = f"{self.host}!{service}!{short}" if service else f"{self.host}!{short}"
        return self.notification_objects()[name]

    def service_attr(self, service, attr):
        status, answer = request(
            "GET", f"/v1/objects/services/{urllib.parse.quote(self.host + '!' + service)}?attrs={attr}")
        return answer["results"][0]["attrs"][attr]

    def record(self):
        out = {"description": self.description, "steps": self.steps, "attrs": self.attrs}
        if self.checks:
            out["checks"] = self.checks
        if self.answers:
            out["api_answers"] = self.answers
        if self.error:
            out["error"] = self.error
        return out


SCENARIOS = []


def scenario(key, host, services, description):
    def wrap(fn):
        SCENARIOS.append((Scenario(key, host, services, description), fn))
        return fn
    return wrap


# -- the scenarios ----------------------------------------------------------

@scenario("a", "sc-a", [None, "svc"],
          "max_check_attempts 2: a SOFT problem that recovers sends nothing; two CRITICALs in a row do")
def sc_a(s):
    s.result("svc", 0); s.step("OK (baseline)", W)
    s.result("svc", 2); s.step("CRITICAL (SOFT 1/2), one timer tick", T)
    s.result("svc", 0); s.step("OK before HARD", W)
    s.snapshot("after SOFT CRITICAL and OK")
    s.result("svc", 2); s.step("CRITICAL (SOFT 1/2)", W)
    s.result("svc", 2); s.step("CRITICAL (HARD 2/2)", W)
    s.snapshot("after HARD CRITICAL")


@scenario("a2", "sc-a2", [None, "svc"],
          "max_check_attempts 2, no result before: is the very first CRITICAL already HARD?")
def sc_a2(s):
    s.result("svc", 2); s.step("first result ever: CRITICAL", W)
    s.snapshot("after first CRITICAL")
    s.result("svc", 2); s.step("second CRITICAL", W)
    s.snapshot("after second CRITICAL")


@scenario("b", "sc-b", [None, "svc"],
          "HARD CRITICAL then OK; users: uall (no filter), ucrit (states Critical), "
          "uwarn (states OK, Warning), uproblem (types Problem)")
def sc_b(s):
    s.result("svc", 0); s.step("OK (baseline)", W)
    s.snapshot("before problem")
    s.result("svc", 2); s.step("CRITICAL (HARD)", W)
    s.snapshot("after Problem")
    s.step("one timer tick later (interval 0: no reminder)", T)
    s.result("svc", 0); s.step("OK", W)
    s.snapshot("after Recovery")
    s.step("one timer tick later", T)
    s.snapshot("a tick after Recovery")


@scenario("c", "sc-c", [None, "svc"],
          "max_check_attempts 1: WARNING, CRITICAL, CRITICAL, WARNING, OK")
def sc_c(s):
    s.result("svc", 0); s.step("OK (baseline)", W)
    s.result("svc", 1); s.step("WARNING (HARD)", W)
    s.snapshot("after WARNING")
    s.result("svc", 2); s.step("CRITICAL (HARD)", W)
    s.snapshot("after CRITICAL")
    s.result("svc", 2); s.step("CRITICAL again", W)
    s.result("svc", 1); s.step("back to WARNING", W)
    s.snapshot("after second WARNING")
    s.result("svc", 0); s.step("OK", W)
    s.snapshot("after OK")


@scenario("d", "sc-d", [None, "svc"],
          "notification state filters: 'crit' has states [Critical], 'critok' [Critical, OK]")
def sc_d(s):
    s.result("svc", 0); s.step("OK (baseline)", W)
    s.result("svc", 1); s.step("WARNING (HARD), one timer tick", T)
    s.snapshot("after WARNING")
    s.result("svc", 2); s.step("CRITICAL", W)
    s.snapshot("after CRITICAL")
    s.result("svc", 0); s.step("OK", W)
    s.snapshot("after OK")
    s.result("svc", 1); s.step("WARNING again, one timer tick", T)
    s.snapshot("after WARNING again")


@scenario("e", "sc-e", [None, "svc"],
          "notification types [Problem]: no Recovery, Acknowledgement or Custom")
def sc_e(s):
    s.result("svc", 0); s.step("OK (baseline)", W)
    s.result("svc", 2); s.step("CRITICAL", W)
    s.snapshot("after CRITICAL")
    s.ack("svc"); s.step("acknowledge, notify", W)
    s.custom("svc"); s.step("custom notification", W)
    s.result("svc", 0); s.step("OK", W)
    s.snapshot("after OK")
    s.result("svc", 2); s.step("CRITICAL again", W)
    s.snapshot("after CRITICAL again")


@scenario("f-ack", "sc-f", ["ack"],
          "acknowledge with notify=true; users uall, uwarn (states OK, Warning), uack (types Acknowledgement)")
def sc_f_ack(s):
    s.result("ack", 0); s.step("OK (baseline)", W)
    s.result("ack", 2); s.step("CRITICAL", W)
    s.snapshot("after Problem")
    s.ack("ack", author="alice", comment="on it now"); s.step("acknowledge, notify=true", W)
    s.snapshot("after Acknowledgement")
    s.step("one timer tick later", T)
    s.result("ack", 0); s.step("OK", W)
    s.snapshot("after Recovery")


@scenario("f-nonotify", "sc-f", ["nonotify"], "acknowledge with notify=false")
def sc_f_nonotify(s):
    s.result("nonotify", 0); s.step("OK (baseline)", W)
    s.result("nonotify", 2); s.step("CRITICAL", W)
    s.ack("nonotify", notify=False); s.step("acknowledge, notify=false, one timer tick", T)
    s.snapshot("after acknowledgement")


@scenario("f-filtered", "sc-f", ["filtered"],
          "notification states [Critical], users uall, uack: WARNING is not notified, then acknowledged")
def sc_f_filtered(s):
    s.result("filtered", 0); s.step("OK (baseline)", W)
    s.result("filtered", 1); s.step("WARNING (filtered by the notification)", W)
    s.snapshot("after WARNING")
    s.ack("filtered", author="alice", comment="seen it"); s.step("acknowledge, notify=true", W)
    s.snapshot("after acknowledgement")
    s.result("filtered", 2); s.step("CRITICAL (normal ack goes away)", W)
    s.snapshot("after CRITICAL")


@scenario("f-normal", "sc-f", ["normal"],
          "a normal acknowledgement ends with the next state change")
def sc_f_normal(s):
    s.result("normal", 0); s.step("OK (baseline)", W)
    s.result("normal", 1); s.step("WARNING", W)
    s.ack("normal", comment="normal ack"); s.step("acknowledge, notify=true", W)
    s.result("normal", 2); s.step("CRITICAL", W)
    s.snapshot("after CRITICAL")


@scenario("f-sticky", "sc-f", ["sticky"],
          "a sticky acknowledgement survives WARNING -> CRITICAL and ends with OK")
def sc_f_sticky(s):
    s.result("sticky", 0); s.step("OK (baseline)", W)
    s.result("sticky", 1); s.step("WARNING", W)
    s.ack("sticky", comment="sticky ack", notify=False, sticky=True); s.step("sticky acknowledge, notify=false", W)
    s.result("sticky", 2); s.step("CRITICAL (still acknowledged), one timer tick", T)
    s.snapshot("after CRITICAL")
    s.result("sticky", 0); s.step("OK, one timer tick", T)
    s.snapshot("after OK")


@scenario("g", "sc-g", ["expire", "removed"],
          "fixed downtimes started now: 'expire' ends after 8 s, 'removed' is removed by remove-downtime; "
          "users uall, uproblem (types Problem)")
def sc_g(s):
    s.result("expire", 0); s.result("removed", 0); s.step("OK (baseline)", W)
    start = time.time()
    s.downtime("expire", start, start + 8, comment="short work")
    removed = s.downtime("removed", start, start + 600, comment="long work")
    s.step("two downtimes scheduled (start now)", W)
    s.snapshot("after DowntimeStart")
    action("remove-downtime", {"downtime": removed})
    s.step("remove-downtime of 'removed'", W)
    s.snapshot("after removal")
    # Icinga notices an expired downtime at its next 60 s sweep; Picket
    # at its end_time. Only "within a minute" is compared.
    t = s.wait_for(lambda f: f[3] == "expire", timeout=start + 75 - time.time())
    # The last snapshot comes more than a minute after the start on both,
    # past the minute in which reminders are held back.
    s.step("waiting (up to 75 s after scheduling) for the end of 'expire'",
           until=max(time.time() + W, start + 70))
    s.checks["end of 'expire' notified"] = t is not None
    if t is not None:
        s.checks["end of 'expire' notified within 62 s of its end_time"] = t - (start + 8) <= 62
    s.snapshot("at the end")


@scenario("h", "sc-h", ["persists", "recovers", "changed"],
          "state changes during a 10 s fixed downtime: 'persists' goes CRITICAL, 'recovers' goes "
          "CRITICAL and back to OK, 'changed' was CRITICAL (notified) and goes OK")
def sc_h(s):
    s.result("persists", 0); s.result("recovers", 0); s.result("changed", 2)
    s.step("baseline: OK, OK, CRITICAL", W)
    start = time.time()
    # Removed by remove-downtime rather than left to expire: when an
    # expired downtime is noticed differs (Icinga: its 60 s sweep).
    names = [s.downtime(svc, start, start + 600) for svc in ("persists", "recovers", "changed")]
    s.step("downtimes scheduled (start now)", W)
    s.result("persists", 2); s.result("recovers", 2); s.result("changed", 0)
    s.step("in downtime: CRITICAL, CRITICAL, OK", W)
    s.snapshot("in downtime")
    s.result("recovers", 0); s.step("in downtime: 'recovers' OK again", W)
    for name in names:
        action("remove-downtime", {"downtime": name})
    s.step("downtimes removed, then one timer tick", T)
    s.snapshot("after the downtimes")
    s.step("one more timer tick", T)
    s.snapshot("at the end")


@scenario("i-on", "sc-i", ["on"],
          "send-custom-notification on a service with notifications; users uall, uoff (disabled)")
def sc_i_on(s):
    s.result("on", 0); s.step("OK (baseline)", W)
    s.custom("on", author="bob", comment="hello there"); s.step("custom (OK state)", W)
    s.snapshot("after Custom")
    s.step("one timer tick", T)
    s.result("on", 2); s.step("CRITICAL", W)
    s.snapshot("after Problem")
    s.custom("on", author="bob", comment="second one"); s.step("custom while CRITICAL, one timer tick", T)
    s.snapshot("after Custom while CRITICAL")
    s.custom("on", author="carol", comment="forced one", force=True); s.step("custom force=true", W)


@scenario("i-off", "sc-i", ["off"],
          "send-custom-notification on a service with enable_notifications=false; users uall, uoff")
def sc_i_off(s):
    s.result("off", 0); s.step("OK (baseline)", W)
    s.custom("off", comment="not forced"); s.step("custom without force", W)
    s.custom("off", comment="forced", force=True); s.step("custom force=true", W)
    s.snapshot("after forced Custom")
    s.custom("off", comment="not forced again", force=False); s.step("custom force=false afterwards", W)
    s.result("off", 2); s.step("CRITICAL, one timer tick", T)
    s.snapshot("at the end")


@scenario("j", "sc-j", [None, "svc"], "volatile service, max_check_attempts 1")
def sc_j(s):
    s.result("svc", 0); s.step("OK (baseline)", W)
    for n in (1, 2, 3):
        s.result("svc", 2); s.step(f"CRITICAL #{n}", W)
    s.snapshot("after three CRITICALs")
    s.result("svc", 1); s.step("WARNING", W)
    s.result("svc", 0); s.step("OK", W)
    s.result("svc", 0); s.step("OK again", W)
    s.snapshot("at the end")


@scenario("k-disabled", "sc-k", ["disabled"], "service with enable_notifications=false")
def sc_k_disabled(s):
    s.result("disabled", 0); s.step("OK (baseline)", W)
    s.result("disabled", 2); s.step("CRITICAL", W)
    s.ack("disabled"); s.step("acknowledge, notify=true", W)
    s.result("disabled", 0); s.step("OK", W)
    s.snapshot("at the end")


@scenario("k-useroff", "sc-k", ["useroff"], "users uall and uoff (enable_notifications=false)")
def sc_k_useroff(s):
    s.result("useroff", 0); s.step("OK (baseline)", W)
    s.result("useroff", 2); s.step("CRITICAL", W)
    s.snapshot("after Problem")
    s.result("useroff", 0); s.step("OK", W)


@scenario("l", "sc-l", [None, "svc"],
          "users [g1], user_groups [team] (members g1, g2, goff with notifications disabled)")
def sc_l(s):
    s.result("svc", 0); s.step("OK (baseline)", W)
    s.result("svc", 2); s.step("CRITICAL", W)
    s.snapshot("after Problem")
    s.result("svc", 0); s.step("OK", W)
    s.snapshot("after Recovery")


@scenario("m", "sc-m", [None],
          "host notification; users uall, udown (states Down), ucrit (states Critical)")
def sc_m(s):
    s.result(None, 0); s.step("UP (baseline)", W)
    s.result(None, 1); s.step("DOWN (HARD)", W)
    s.snapshot("after Problem")
    s.result(None, 1); s.step("DOWN again", W)
    s.result(None, 0); s.step("UP", W)
    s.snapshot("after Recovery")


@scenario("n", "sc-n", [None, "svc"],
          "service problem while its host is DOWN (HARD); host and service notifications to uall")
def sc_n(s):
    s.result(None, 0); s.result("svc", 0); s.step("UP, OK (baseline)", W)
    s.result(None, 1); s.step("host DOWN", W)
    s.result("svc", 2); s.step("service CRITICAL while host DOWN, one timer tick", T)
    s.snapshot("service CRITICAL, host DOWN")
    s.result(None, 0); s.step("host UP, one timer tick", T)
    s.step("another timer tick", T)
    s.snapshot("host UP again")
    s.result("svc", 2); s.step("service CRITICAL again (new result), one timer tick", T)
    s.snapshot("at the end")


@scenario("o", "sc-o", ["r2", "r10"], "reminders: 'r2' has interval 2s, 'r10' interval 10s")
def sc_o(s):
    s.result("r2", 0); s.result("r10", 0); s.step("OK (baseline)", W)
    t0 = time.time()
    s.result("r2", 2); s.result("r10", 2)
    # Watch for 30 s, then end the step between two timer ticks (2.5 s
    # after one), so that no reminder is counted half.
    time.sleep(30)
    TAIL.poll()
    ticks = [t for t, line in s.mine()[s.seen:] if fields(line)[3] == "r2"][1:]
    end = time.time()
    if ticks:
        end = ticks[-1] + 2.5
        while end < t0 + 30:
            end += 5
    new = s.step("CRITICAL, then 30 to 35 s", until=end)
    for svc, interval in (("r2", 2), ("r10", 10)):
        times = [t - t0 for t, line in new if fields(line)[3] == svc and fields(line)[0] == "PROBLEM"]
        gaps = [b - a for a, b in zip(times, times[1:])]
        c = {}
        c["first Problem within 1.5 s"] = bool(times) and times[0] < 1.5
        if svc == "r2":
            c["at least 6 Problems"] = len(times) >= 6
            c["at most 8 Problems"] = len(times) <= 8
            c["first reminder 2 to 7.5 s after the first Problem"] = len(gaps) > 0 and 2 <= gaps[0] <= 7.5
            c["later reminders 4.5 to 5.5 s apart"] = len(gaps) > 1 and all(4.5 <= g <= 5.5 for g in gaps[1:])
        else:
            c["at least 3 Problems"] = len(times) >= 3
            c["at most 4 Problems"] = len(times) <= 4
            c["first reminder 10 to 15.5 s after the first Problem"] = len(gaps) > 0 and 10 <= gaps[0] <= 15.5
            c["later reminders 9.5 to 15.5 s apart"] = all(9.5 <= g <= 15.5 for g in gaps[1:])
        n = s.raw_notification(svc)
        c["notification_number equals the number of Problems"] = n["notification_number"] == len(times)
        s.checks[svc] = c
    # The reminder lines themselves vary in number; keep them as a set.
    s.steps[-1]["lines"] = sorted(set(s.steps[-1]["lines"]))
    s.steps[-1]["note"] = "lines de-duplicated (reminders repeat them)"
    s.snapshot("while CRITICAL", vary=("sc-o!r2!n", "sc-o!r10!n"))
    s.result("r2", 0); s.result("r10", 0); s.step("OK", W)
    s.snapshot("after Recovery")
    s.step("one timer tick (no reminders when OK)", T)


@scenario("p", "sc-p", [None, "svc"],
          "delay-notification: 'remind' has interval 2s, 'once' interval 0")
def sc_p(s):
    s.result("svc", 0); s.step("OK (baseline)", W)
    # delay-notification right after the Problem, before 'remind' (next
    # notification 2 s after the Problem) can send a reminder.
    s.result("svc", 2)
    ts = int(time.time()) + 15
    status, answer = action("delay-notification", {"type": "Service", "service": "sc-p!svc", "timestamp": ts})
    s.answers["delay-notification"] = {"status": status, "body": answer}
    s.step("CRITICAL, at once delay-notification to now + 15 s", W)
    s.snapshot("right after delay-notification", delayed_to=ts)
    s.step("until 1 s before the timestamp", until=ts - 1)
    s.snapshot("just before the timestamp", delayed_to=ts)
    # The first reminder after the timestamp; the step ends between two
    # timer ticks so that no reminder is cut in half.
    t = s.wait_for(lambda f: f[0] == "PROBLEM", timeout=ts + 8 - time.time())
    s.checks["a reminder within 8 s after the timestamp"] = t is not None
    if t is not None:
        s.checks["first reminder not before the timestamp"] = t >= ts
    new = s.step("until the first reminder after the timestamp (+2.5 s)", until=(t or time.time()) + 2.5)
    s.checks["reminders in that step come from 'remind' only"] = sorted(
        {fields(l)[7] for _, l in new if fields(l)[0] == "PROBLEM"}) == ["remind"]
    s.steps[-1]["lines"] = sorted(set(s.steps[-1]["lines"]))
    s.steps[-1]["note"] = "lines de-duplicated (reminders repeat them)"
    s.result("svc", 0); s.step("OK", W)
    s.snapshot("after Recovery", delayed_to=ts)


@scenario("q", "sc-q", ["begin", "end"],
          "times: 'begin' has times.begin 10s (interval 0), 'end' times.end 8s (interval 2s)")
def sc_q(s):
    s.result("begin", 0); s.result("end", 0); s.step("OK (baseline)", W)
    t0 = time.time()
    s.result("begin", 2); s.result("end", 2)
    new = s.step("CRITICAL", W)
    ends = [t - t0 for t, l in new if fields(l)[3] == "end"]
    n = s.raw_notification("begin")
    lhsc = s.service_attr("begin", "last_hard_state_change")
    s.checks["'begin' next_notification - last_hard_state_change"] = round(n["next_notification"] - lhsc, 1)
    s.checks["'begin' no_more_notifications before its first Problem"] = n["no_more_notifications"]
    s.checks["'begin' notification_number before its first Problem"] = n["notification_number"]
    new = s.step("until 9.5 s after CRITICAL", until=t0 + 9.5)
    ends += [t - t0 for t, l in new if fields(l)[3] == "end"]
    s.steps[-1]["lines"] = sorted(set(s.steps[-1]["lines"]))
    s.steps[-1]["note"] = "lines de-duplicated (reminders repeat them)"
    new = s.step("until 18 s after CRITICAL", until=t0 + 18)
    s.checks["'begin' first Problem 10 to 17 s after CRITICAL"] = [
        10 <= t - t0 <= 17 for t, l in new if fields(l)[3] == "begin"] == [True]
    ends += [t - t0 for t, l in new if fields(l)[3] == "end"]
    s.checks["'end': Problem at once, then at least one reminder"] = len(ends) >= 2 and ends[0] < 1.5
    s.checks["'end': nothing later than 8.5 s after CRITICAL"] = all(t <= 8.5 for t in ends)
    s.checks["'end': notification_number equals the number of its Problems"] = \
        s.raw_notification("end")["notification_number"] == len(ends)
    s.snapshot("18 s after CRITICAL", vary=("sc-q!end!n",))
    s.result("begin", 0); s.result("end", 0); s.step("OK", W)
    s.snapshot("after Recovery")


@scenario("r", "sc-r", [None, "svc"], "notification period 'never' (a TimePeriod without ranges)")
def sc_r(s):
    s.result("svc", 0); s.step("OK (baseline)", W)
    s.result("svc", 2); s.step("CRITICAL, one timer tick", T)
    s.snapshot("after CRITICAL")
    s.custom("svc"); s.step("custom", W)
    s.custom("svc", comment="forced", force=True); s.step("custom force=true", W)
    s.result("svc", 0); s.step("OK", W)
    s.snapshot("at the end")


@scenario("s", "sc-s", ["idle", "custom", "ackremoved", "acknonotify"],
          "interval 0 notifications once the daemon has run for 60 s: a Custom or Acknowledgement "
          "notification clears no_more_notifications, and the reminder timer sends the Problem again")
def sc_s(s):
    # A notification nothing happened to: where is next_notification?
    start = program_start()
    n = s.raw_notification("idle")
    s.checks["untouched next_notification 55 to 65 s after program_start"] = \
        55 <= n["next_notification"] - start <= 65
    s.snapshot("untouched, right after startup")
    s.step("until 62 s after program_start", until=start + 62)
    s.snapshot("untouched, 62 s after program_start")
    for svc in ("custom", "ackremoved", "acknonotify"):
        s.result(svc, 0)
    s.step("OK (baseline)", W)
    for svc in ("custom", "ackremoved", "acknonotify"):
        s.result(svc, 2)
    s.step("CRITICAL", W)
    s.custom("custom", comment="while critical")
    s.ack("ackremoved", comment="ack with notify")
    s.ack("acknonotify", comment="ack without notify", notify=False)
    s.step("custom / ack notify=true / ack notify=false, one timer tick", T)
    s.snapshot("after custom and acks")
    for svc in ("ackremoved", "acknonotify"):
        action("remove-acknowledgement", s.target(svc))
    s.step("remove-acknowledgement (both), one timer tick", T)
    s.snapshot("after removing the acks")
    s.step("another timer tick", T)


@scenario("api", "sc-api", [None, "svc"],
          "answers of send-custom-notification and delay-notification")
def sc_api(s):
    s.result(None, 0); s.result("svc", 0); s.step("UP, OK (baseline)", W)
    ts = int(time.time()) + 3600
    calls = [
        ("custom: service", "send-custom-notification",
         {"type": "Service", "service": "sc-api!svc", "author": "api", "comment": "custom for the service"}),
        ("custom: host", "send-custom-notification",
         {"type": "Host", "host": "sc-api", "author": "api", "comment": "custom for the host"}),
        ("custom: host, empty author and comment", "send-custom-notification",
         {"type": "Host", "host": "sc-api", "author": "", "comment": ""}),
        ("custom: missing author", "send-custom-notification",
         {"type": "Service", "service": "sc-api!svc", "comment": "x"}),
        ("custom: missing comment", "send-custom-notification",
         {"type": "Host", "host": "sc-api", "author": "api"}),
        ("custom: missing both", "send-custom-notification",
         {"type": "Service", "service": "sc-api!svc"}),
        ("custom: filter matching nothing", "send-custom-notification",
         {"type": "Service", "filter": "service.name==\"nope\"", "author": "api", "comment": "x"}),
        ("custom: unknown host", "send-custom-notification",
         {"type": "Host", "host": "nope", "author": "api", "comment": "x"}),
        ("custom: unknown service", "send-custom-notification",
         {"type": "Service", "service": "sc-api!nope", "author": "api", "comment": "x"}),
        ("custom: no type", "send-custom-notification",
         {"author": "api", "comment": "x"}),
        ("delay: service", "delay-notification",
         {"type": "Service", "service": "sc-api!svc", "timestamp": ts}),
        ("delay: host", "delay-notification",
         {"type": "Host", "host": "sc-api", "timestamp": ts}),
        ("delay: missing timestamp", "delay-notification",
         {"type": "Service", "service": "sc-api!svc"}),
        ("delay: filter matching nothing", "delay-notification",
         {"type": "Host", "filter": "host.name==\"nope\"", "timestamp": ts}),
        ("delay: unknown service", "delay-notification",
         {"type": "Service", "service": "sc-api!nope", "timestamp": ts}),
    ]
    for label, name, body in calls:
        status, answer, text = request("POST", "/v1/actions/" + name, body, raw=True)
        s.answers[label] = {"request": {"action": name, "body": body}, "status": status,
                            "body": answer, "body_text": text}
        if "timestamp" in body:
            body["timestamp"] = "<now + 3600, integer>"
    s.step("all the calls above", W)
    s.snapshot("after the calls", delayed_to=ts)


# -- main -------------------------------------------------------------------

def run(s, fn):
    try:
        fn(s)
    except Exception:  # recorded, so that one failure does not hide the rest
        s.error = traceback.format_exc().strip().splitlines()[-1]
        traceback.print_exc()


def main():
    global BASE, TAIL
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    BASE, log, out = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    started = time.time()
    wait_until_up()
    TAIL = Tail(log)
    TAIL.poll()
    TAIL.start()
    threads = [threading.Thread(target=run, args=(s, fn)) for s, fn in SCENARIOS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    TAIL.stopped = True
    TAIL.poll()
    result = {s.key: s.record() for s, _ in SCENARIOS}
    # Lines of hosts no scenario knows (there should be none).
    known = {s.host for s, _ in SCENARIOS}
    stray = sorted({l for _, l in TAIL.snapshot() if fields(l)[2:3] and fields(l)[2] not in known})
    if stray:
        result["_unexpected_lines"] = stray
    with open(out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=False)
        f.write("\n")
    failed = [s.key for s, _ in SCENARIOS if s.error]
    print(f"{len(SCENARIOS)} scenarios in {time.time() - started:.0f} s; "
          f"{len(failed)} failed{': ' + ', '.join(failed) if failed else ''}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
