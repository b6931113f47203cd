#!/usr/bin/env python3
"""Sends every request of requests.json to a real Icinga 2 and to Picket,
both started from the same configuration, and compares the answers: the
status code, the content type, and the shape of JSON bodies (keys, value
types, nesting; values themselves are ignored, they differ between runs).
Lists are compared as the set of their elements' shapes, since object
order is not defined. Exit status 1 lists every difference.

usage: conformance.py ICINGA_BASE_URL PICKET_BASE_URL requests.json
"""
import base64
import http.client
import json
import re
import ssl
import sys
import time
import urllib.parse

PASSWORDS = {"root": "rootpw", "viewer": "viewpw", "filtered": "filtpw", "svcfiltered": "svcpw"}


# Names captured from earlier answers, per node: {"c1": "host1!<uuid>"}.
CAPTURED = {}


def fill(base, text):
    """Puts captured names (`{c1}`) into a path or body, URL-quoted in
    paths."""
    for k, v in CAPTURED.get(base, {}).items():
        text = text.replace("{" + k + "}", v)
    return text


def send(base, req):
    req = dict(req)
    req["path"] = fill(base, req["path"])
    if "body" in req:
        req["body"] = json.loads(fill(base, json.dumps(req["body"])))
    url = urllib.parse.urlsplit(base)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=30)
    headers = {}
    accept = req.get("accept", "application/json")
    if accept:
        headers["Accept"] = accept
    user = req.get("user")
    if user:
        if ":" not in user:
            user = f"{user}:{PASSWORDS[user]}"
        headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
    if req.get("override"):
        headers["X-HTTP-Method-Override"] = req["override"]
    headers.update(req.get("headers", {}))
    body = None
    if "raw" in req:
        body = req["raw"].encode()
    elif "body" in req:
        body = json.dumps(req["body"]).encode()
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(req["method"], req["path"], body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    ctype = (resp.getheader("Content-Type") or "").split(";")[0]
    try:
        doc = json.loads(data) if data and ctype == "application/json" else None
    except ValueError:
        doc = None
    headers = dict((k.lower(), v) for k, v in resp.getheaders())
    # The bytes as sent, for `same_raw` (layout: `pretty`).
    headers["(raw)"] = data
    if doc is None:
        # Not JSON (a stage's file): kept whole for `same_body`.
        headers["(body)"] = data
    return resp.status, ctype, doc, headers


def shape(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if v is None:
        return "null"
    if isinstance(v, list):
        return ["list", sorted({json.dumps(shape(x), sort_keys=True) for x in v})]
    # Keys that are generated names (execution ids) are alike.
    return {UUID.sub("<uuid>", k): shape(x) for k, x in v.items()}


def diff(a, b, path="$"):
    """The places where shapes a (Icinga) and b (Picket) differ."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in b:
                out.append(f"{path}.{k}: missing in Picket")
            elif k not in a:
                out.append(f"{path}.{k}: not in Icinga")
            else:
                out.extend(diff(a[k], b[k], f"{path}.{k}"))
    elif isinstance(a, list) and isinstance(b, list):
        if a[1] != b[1]:
            sa = [json.loads(x) for x in a[1]]
            sb = [json.loads(x) for x in b[1]]
            if len(sa) == 1 and len(sb) == 1:
                out.extend(diff(sa[0], sb[0], path + "[]"))
            else:
                out.append(f"{path}[]: element shapes differ: {a[1]} vs {b[1]}")
    elif a != b:
        out.append(f"{path}: {a} in Icinga, {b} in Picket")
    return out


def ready(base):
    """Whether the node answers and every active check has a result."""
    try:
        status, _, doc, _ = send(base, {"user": "root", "method": "GET",
            "path": "/v1/objects/services?attrs=last_check_result&attrs=enable_active_checks"})
    except OSError:
        return False
    if status != 200 or not doc or not doc.get("results"):
        return False
    return all(r["attrs"]["last_check_result"] for r in doc["results"]
               if r["attrs"]["enable_active_checks"])


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# Where each node keeps what the API created: Icinga's stage directory
# has a generated name.
API_PACKAGE = re.compile(r"\S*/api/packages/_api/(<uuid>/)?conf\.d/")


def normal(text):
    """A result text with generated names and the nodes' own paths made
    equal, without the source lines after a location."""
    text = API_PACKAGE.sub("<api>/", UUID.sub("<uuid>", str(text)))
    return text.split("\n<api>/")[0]


def statuses(doc):
    """The result texts and errors of an action or object change."""
    out = []
    for r in (doc or {}).get("results", []):
        if isinstance(r, dict):
            out.append(normal(r.get("status")))
            out.extend(normal(e) for e in r.get("errors") or [])
    return sorted(out)


def capture(base, req, doc):
    if req.get("capture"):
        field = req.get("capture_field", "name")
        names = [r.get(field) for r in (doc or {}).get("results", []) if isinstance(r, dict)]
        if names and names[0]:
            CAPTURED.setdefault(base, {})[req["capture"]] = urllib.parse.quote(names[0]) \
                if req.get("capture_quoted") else names[0]


def fields(doc, paths):
    """Chosen attributes (dotted paths) of every result, by object name
    (UUIDs in names, of comments and downtimes, made alike)."""
    out = []
    for r in sorted((doc or {}).get("results", []), key=lambda r: str(r.get("name"))):
        row = [UUID.sub("<uuid>", str(r.get("name")))]
        for path in paths:
            v = r.get("attrs", {})
            for part in path.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            row.append(v)
        out.append(row)
    return out


def used_by(doc):
    """Who uses each result (`meta=used_by`), generated names made alike."""
    return sorted(
        [str(r.get("name")),
         sorted(f"{u.get('type')} {UUID.sub('<uuid>', str(u.get('name')))}"
                for u in (r.get("meta") or {}).get("used_by", []))]
        for r in (doc or {}).get("results", []))


def values(doc):
    return sorted(json.dumps([r.get("name"), r.get("attrs")], sort_keys=True)
                  for r in (doc or {}).get("results", []))


def first_events(base, types, count, trigger, filter='event.service == "passive"', seconds=30,
                 queue="conformance"):
    """Opens /v1/events on `base`, runs `trigger`, and returns the first
    `count` events (parsed lines, fewer when `seconds` pass first) and the
    response headers."""
    url = urllib.parse.urlsplit(base)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=seconds)
    auth = "Basic " + base64.b64encode(b"root:rootpw").decode()
    query = urllib.parse.urlencode([("types", t) for t in types] + [
        ("queue", queue),
        ("filter", filter),
    ], quote_via=urllib.parse.quote)
    conn.request("POST", "/v1/events?" + query, headers={"Accept": "application/json", "Authorization": auth})
    resp = conn.getresponse()
    headers = dict((k.lower(), v) for k, v in resp.getheaders())
    trigger()
    events = []
    while len(events) < count:
        try:
            line = resp.readline()
        except OSError:
            break
        if not line:
            break
        events.append(json.loads(line))
    conn.close()
    return resp.status, headers, events


def stream_check(icinga, picket):
    """The same passive result sent to both nodes must come out of their
    event streams as events of the same shape and values."""
    problems = []
    outputs = {}
    got = {}
    for name, base in (("Icinga", icinga), ("Picket", picket)):
        output = f"stream check for {name}"
        outputs[name] = output
        def trigger(base=base, output=output):
            send(base, {"user": "root", "method": "POST", "path": "/v1/actions/process-check-result",
                        "body": {"type": "Service", "service": "host1!passive", "exit_status": 2,
                                 "plugin_output": output}})
        got[name] = first_events(base, ["CheckResult", "StateChange"], 2, trigger)
    (si, hi, ei), (sp, hp, ep) = got["Icinga"], got["Picket"]
    if si != sp:
        problems.append(f"stream status {si} in Icinga, {sp} in Picket")
    for header in ("content-type", "transfer-encoding", "content-length"):
        if hi.get(header) != hp.get(header):
            problems.append(f"stream {header} {hi.get(header)!r} vs {hp.get(header)!r}")
    key = lambda e: e.get("type")
    for a, b in zip(sorted(ei, key=key), sorted(ep, key=key)):
        problems.extend(diff(shape(a), shape(b), f"$event({a.get('type')})"))
        for field in ("type", "host", "service", "state", "state_type"):
            if a.get(field) != b.get(field):
                problems.append(f"event {a.get('type')}: {field} {a.get(field)!r} in Icinga, {b.get(field)!r} in Picket")
    if len(ei) != len(ep):
        problems.append(f"{len(ei)} events from Icinga, {len(ep)} from Picket")
    for e in ep:
        if e["check_result"]["output"] != outputs["Picket"]:
            problems.append(f"Picket streamed output {e['check_result']['output']!r}")
    return problems


def active_stream_check(icinga, picket):
    """A result of an active built-in check (host2!ping, every 2 s) comes
    out of both streams alike: the same keys in the same order (Icinga
    sorts them) and the check's command named."""
    got = {}
    for name, base in (("Icinga", icinga), ("Picket", picket)):
        _, _, events = first_events(base, ["CheckResult"], 1, lambda: None,
                                    filter='event.host == "host2" && event.service == "ping"',
                                    seconds=10)
        got[name] = events
    a, b = got["Icinga"], got["Picket"]
    if len(a) != 1 or len(b) != 1:
        return [f"{len(a)} active results streamed by Icinga, {len(b)} by Picket"]
    a, b = a[0], b[0]
    problems = diff(shape(a), shape(b), "$event(CheckResult)")
    if list(a) != list(b) or list(a["check_result"]) != list(b["check_result"]):
        problems.append(f"key order {list(a)} / {list(a['check_result'])} in Icinga, {list(b)} / {list(b['check_result'])} in Picket")
    if a["check_result"]["command"] != b["check_result"]["command"]:
        problems.append(f"command {a['check_result']['command']!r} in Icinga, {b['check_result']['command']!r} in Picket")
    return problems


OPERATION_EVENTS = ["AcknowledgementSet", "AcknowledgementCleared", "CommentAdded", "CommentRemoved",
                    "DowntimeAdded", "DowntimeStarted", "DowntimeTriggered", "DowntimeRemoved"]


def operation_stream_check(icinga, picket):
    """An acknowledgement set and removed, a downtime scheduled and removed
    on both nodes: the events of each type must have the same shape."""
    got = {}
    for name, base in (("Icinga", icinga), ("Picket", picket)):
        def trigger(base=base):
            act = lambda action, body: send(base, {"user": "root", "method": "POST",
                                                   "path": "/v1/actions/" + action, "body": body})
            target = {"type": "Service", "service": "host2!broken"}
            act("acknowledge-problem", dict(target, author="ev", comment="stream ack"))
            act("remove-acknowledgement", target)
            r = act("schedule-downtime", dict(target, author="ev", comment="stream dt",
                                              start_time=1, end_time=4102444800))
            names = [x.get("name") for x in (r[2] or {}).get("results", [])]
            time.sleep(6)  # Icinga starts fixed downtimes on a timer.
            for n in names:
                act("remove-downtime", {"downtime": n})
        _, _, events = first_events(base, OPERATION_EVENTS, 8, trigger,
                                    filter="true", seconds=10)
        got[name] = {}
        for e in events:
            got[name].setdefault(e.get("type"), e)
    problems = []
    for kind in OPERATION_EVENTS:
        a, b = got["Icinga"].get(kind), got["Picket"].get(kind)
        if a is None and b is None:
            continue
        if a is None or b is None:
            problems.append(f"{kind}: {'no' if a is None else 'an'} event in Icinga, {'no' if b is None else 'an'} event in Picket")
            continue
        problems.extend(diff(shape(a), shape(b), f"$event({kind})"))
    return problems


def bare_acknowledgement_check(icinga, picket):
    """Acknowledgement fields set with POST tell nothing (Icinga writes the
    bare fields), but one that expires is cleared like any other: both
    streams give the same events, in the same order, of the same shape."""
    got = {}
    for name, base in (("Icinga", icinga), ("Picket", picket)):
        def trigger(base=base):
            post = lambda attrs: send(base, {"user": "root", "method": "POST",
                                             "path": "/v1/objects/services/host2!broken",
                                             "body": {"attrs": attrs}})
            post({"acknowledgement": 2})
            post({"acknowledgement": 0})
            post({"acknowledgement": 1, "acknowledgement_expiry": 1000})
        _, _, events = first_events(base, OPERATION_EVENTS, 3, trigger,
                                    filter='event.service == "broken"', seconds=6,
                                    queue=f"bare-{time.time()}")
        got[name] = events
    problems = []
    kinds = {name: [e.get("type") for e in events] for name, events in got.items()}
    if kinds["Icinga"] != kinds["Picket"]:
        problems.append(f"events {kinds['Icinga']} in Icinga, {kinds['Picket']} in Picket")
    for a, b in zip(got["Icinga"], got["Picket"]):
        problems.extend(diff(shape(a), shape(b), f"$event({a.get('type')})"))
        for field in ("author", "acknowledgement_type", "state"):
            if a.get(field) != b.get(field):
                problems.append(f"{a.get('type')}: {field} {a.get(field)!r} in Icinga, {b.get(field)!r} in Picket")
    return problems


OBJECT_EVENTS = ["ObjectCreated", "ObjectModified", "ObjectDeleted"]


def object_stream_check(icinga, picket):
    """A host created, changed and deleted through the API, with a comment:
    both streams tell the same object events in the same order (one
    ObjectModified per attribute set; the services of apply rules created
    and deleted with the host, the comment as an object too)."""
    got = {}
    for name, base in (("Icinga", icinga), ("Picket", picket)):
        def trigger(base=base):
            call = lambda method, path, body=None: send(
                base, {"user": "root", "method": method, "path": path,
                       **({"body": body} if body is not None else {})})
            call("PUT", "/v1/objects/hosts/evobj", {"attrs": {"check_command": "dummy",
                                                               "vars": {"os": "Linux"}}})
            call("POST", "/v1/objects/hosts/evobj", {"attrs": {"notes": "n", "vars.a": 1}})
            call("POST", "/v1/objects/hosts/evobj", {"attrs": {"next_check": 4102444800}})
            call("POST", "/v1/actions/add-comment", {"type": "Host", "host": "evobj",
                                                      "author": "ev", "comment": "c"})
            call("POST", "/v1/actions/remove-comment", {"type": "Host", "host": "evobj"})
            call("DELETE", "/v1/objects/hosts/evobj?cascade=1")
        _, _, events = first_events(base, OBJECT_EVENTS, 10, trigger,
                                    filter='match("evobj*", event.object_name)', seconds=15,
                                    queue="objects")
        got[name] = [(e.get("type"), e.get("object_type"), UUID.sub("<uuid>", str(e.get("object_name"))),
                      sorted(e)) for e in events]
    # Objects of one type made by one change come in no set order.
    kinds = {name: [e[:2] for e in events] for name, events in got.items()}
    if kinds["Icinga"] != kinds["Picket"] or sorted(got["Icinga"]) != sorted(got["Picket"]):
        return [f"events {got['Icinga']} in Icinga, {got['Picket']} in Picket"]
    return []


def downtime_start_check(icinga, picket):
    """A fixed downtime whose window is open starts as it is made, a
    flexible one waits for a problem, one made during a problem starts at
    once: both streams tell added, started, triggered and created in the
    same order, the trigger time set from the triggered event on."""
    got = {}
    for name, base in (("Icinga", icinga), ("Picket", picket)):
        def trigger(base=base):
            act = lambda action, body: send(base, {"user": "root", "method": "POST",
                                                   "path": "/v1/actions/" + action, "body": body})
            now = time.time()
            r = act("schedule-downtime", {"type": "Host", "host": "host2", "author": "ev",
                                          "comment": "starts", "start_time": now - 10,
                                          "end_time": now + 3600})
            r2 = act("schedule-downtime", {"type": "Host", "host": "host2", "author": "ev",
                                           "comment": "starts", "start_time": now + 600,
                                           "end_time": now + 3600, "fixed": False,
                                           "duration": 60})
            r3 = act("schedule-downtime", {"type": "Service", "service": "host2!broken",
                                           "author": "ev", "comment": "starts",
                                           "start_time": now - 10, "end_time": now + 3600,
                                           "fixed": False, "duration": 60})
            time.sleep(1)
            for x in (r, r2, r3):
                for n in [x.get("name") for x in (x[2] or {}).get("results", [])]:
                    act("remove-downtime", {"downtime": n})
        _, _, events = first_events(
            base, ["DowntimeAdded", "DowntimeStarted", "DowntimeTriggered", "ObjectCreated"], 9,
            trigger, seconds=10, queue="downtime-start",
            filter='(event.type == "ObjectCreated" && event.object_type == "Downtime") || '
                   '(event.type != "ObjectCreated" && event.downtime.comment == "starts")')
        got[name] = [(e.get("type"), bool((e.get("downtime") or {}).get("trigger_time")),
                      (e.get("downtime") or {}).get("fixed")) for e in events]
    if got["Icinga"] != got["Picket"]:
        return [f"events {got['Icinga']} in Icinga, {got['Picket']} in Picket"]
    return []


def main():
    icinga, picket, path = sys.argv[1:4]
    requests = json.load(open(path))
    deadline = time.time() + 90
    while not (ready(icinga) and ready(picket)):
        if time.time() > deadline:
            print("the nodes did not get ready (API up, every active check done) in 90 s")
            sys.exit(2)
        time.sleep(0.5)
    failures = 0
    for req in requests:
        if req.get("wait_for_results"):
            # Some objects come on a timer (Icinga plans ScheduledDowntimes
            # within a minute of its start).
            until = time.time() + 90
            while time.time() < until and not all(
                    (send(base, req)[2] or {}).get("results") for base in (icinga, picket)):
                time.sleep(1)
        # A stage is validated in the background (Icinga starts a process).
        time.sleep(req.get("settle", 0))
        i = send(icinga, req)
        p = send(picket, req)
        capture(icinga, req, i[2])
        capture(picket, req, p[2])
        problems = []
        if req.get("same_status") and statuses(i[2]) != statuses(p[2]):
            problems.append(f"result texts differ: {statuses(i[2])} in Icinga, {statuses(p[2])} in Picket")
        if i[0] != p[0]:
            problems.append(f"status {i[0]} in Icinga, {p[0]} in Picket")
        if i[1] != p[1]:
            problems.append(f"content type {i[1]!r} in Icinga, {p[1]!r} in Picket")
        if i[2] is not None or p[2] is not None:
            problems.extend(diff(shape(i[2]), shape(p[2])))
            if isinstance(i[2], dict) and "status" in i[2] and "error" in i[2]:
                ti, tp = i[2].get("status"), (p[2] or {}).get("status")
                # The JSON parser's own words after the colon differ.
                if str(ti).startswith("Invalid request body:"):
                    ti, tp = ti.split(":")[0], str(tp).split(":")[0]
                if normal(ti) != normal(tp):
                    problems.append(f"error text {i[2].get('status')!r} in Icinga, {(p[2] or {}).get('status')!r} in Picket")
        for h in ("www-authenticate", "location", "access-control-allow-origin",
                  "access-control-allow-credentials", "access-control-allow-methods",
                  "access-control-allow-headers"):
            if i[3].get(h) != p[3].get(h):
                problems.append(f"header {h}: {i[3].get(h)!r} in Icinga, {p[3].get(h)!r} in Picket")
        if req.get("same_body") and i[3].get("(body)") != p[3].get("(body)"):
            problems.append(f"bodies differ: {i[3].get('(body)')!r} in Icinga, {p[3].get('(body)')!r} in Picket")
        # A bare 500 (an exception that escaped Icinga's handlers) has no
        # Server header; every other answer has one (values differ).
        if ("server" in i[3]) != ("server" in p[3]):
            problems.append(f"Server header {'present' if 'server' in i[3] else 'absent'} in Icinga, not in Picket")
        if req.get("same_raw") and i[3]["(raw)"] != p[3]["(raw)"]:
            problems.append(f"bytes differ: {i[3]['(raw)']!r} in Icinga, {p[3]['(raw)']!r} in Picket")
        if req.get("same_fields") and fields(i[2], req["same_fields"]) != fields(p[2], req["same_fields"]):
            problems.append(f"fields differ: {fields(i[2], req['same_fields'])} in Icinga, {fields(p[2], req['same_fields'])} in Picket")
        if req.get("same_used_by") and used_by(i[2]) != used_by(p[2]):
            problems.append(f"used_by differs: {used_by(i[2])} in Icinga, {used_by(p[2])} in Picket")
        if req.get("same_values") and values(i[2]) != values(p[2]):
            problems.append(f"values differ: {values(i[2])} in Icinga, {values(p[2])} in Picket")
        ticket = lambda d: [r.get("ticket") for r in (d or {}).get("results", []) if isinstance(r, dict)]
        if (any(ticket(i[2])) or any(ticket(p[2]))) and ticket(i[2]) != ticket(p[2]):
            problems.append(f"tickets {ticket(i[2])} in Icinga, {ticket(p[2])} in Picket")
        tag = "ok  " if not problems else "FAIL"
        print(f"{tag} {req['method']} {req['path']} ({req['label']}): {i[0]}")
        for pr in problems:
            print(f"       {pr}")
        failures += bool(problems)
    problems = stream_check(icinga, picket)
    print(("ok  " if not problems else "FAIL") + " /v1/events: a passive result streamed as CheckResult and StateChange")
    for pr in problems:
        print(f"       {pr}")
    failures += bool(problems)
    stream_checks = [
        (operation_stream_check, "acknowledgement, comment and downtime events"),
        (active_stream_check, "an active check's result, keys in Icinga's order"),
        (object_stream_check, "objects created, modified and deleted"),
        (downtime_start_check, "a downtime that starts as it is made"),
        (bare_acknowledgement_check, "acknowledgement fields set with POST"),
    ]
    for check, label in stream_checks:
        problems = check(icinga, picket)
        print(("ok  " if not problems else "FAIL") + " /v1/events: " + label)
        for pr in problems:
            print(f"       {pr}")
        failures += bool(problems)
    total = len(requests) + 1 + len(stream_checks)
    print(f"{total - failures} of {total} checks answered alike")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
