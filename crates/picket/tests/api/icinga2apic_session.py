#!/usr/bin/env python3
"""A scripted session of the `icinga2apic` client (from PyPI) against a
node: list and filter objects, create, change and delete a host, process a
check result, acknowledge, schedule and remove a downtime, read the event
stream. Every step checks its answer; the first that fails ends the
session with exit status 1 and says which.

The client sends every request as a POST with X-HTTP-Method-Override,
the way it talks to Icinga 2.

usage: icinga2apic_session.py BASE_URL USER PASSWORD
"""
import sys
import warnings
import threading
import time

from icinga2apic.client import Client
from icinga2apic.exceptions import Icinga2ApiException


def main():
    # The nodes' certificates are their own CA's.
    warnings.simplefilter("ignore")
    url, user, password = sys.argv[1:4]
    client = Client(url, user, password)
    step = lambda text: print(f"ok   {text}", flush=True)

    hosts = sorted(h["name"] for h in client.objects.list("Host", attrs=["name"]))
    assert {"host1", "host2"} <= set(hosts), hosts
    step(f"list hosts: {hosts}")

    linux = client.objects.list("Host", filters='host.vars.os == os', filter_vars={"os": "Linux"},
                                attrs=["name"])
    assert [h["name"] for h in linux] == ["host1"], linux
    step("filter hosts with filter_vars")

    services = client.objects.list("Service", filters='service.name == "ping"', joins=["host.address"])
    assert len(services) == 2 and all(s["joins"]["host"]["address"] for s in services), services
    step("list services with a join")

    r = client.objects.create("Host", "apic1", templates=["generic-host"],
                              attrs={"address": "10.1.1.1", "vars.os": "Linux"})
    assert r["results"][0]["code"] == 200, r
    host = client.objects.get("Host", "apic1")
    assert host["attrs"]["address"] == "10.1.1.1" and host["attrs"]["package"] == "_api", host
    step("create a host")

    r = client.objects.update("Host", "apic1", {"attrs": {"vars.team": "ops"}})
    assert r["results"][0]["status"] == "Attributes updated.", r
    host = client.objects.get("Host", "apic1", attrs=["vars", "original_attributes"])
    assert host["attrs"]["vars"]["team"] == "ops", host
    assert "vars.team" in host["attrs"]["original_attributes"], host
    step("change the host")

    # The event stream, read while a result comes in.
    events = []
    def listen():
        for e in client.events.subscribe(["CheckResult"], "apic", 'event.service == "passive"'):
            events.append(e)
            return
    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    time.sleep(1)

    r = client.actions.process_check_result("Service", "host1!passive", 2, "apic says critical")
    assert r["results"][0]["code"] == 200, r
    step("process a check result")

    reader.join(20)
    assert events and "apic says critical" in events[0], events
    step("read the event stream")

    deadline = time.time() + 20
    while client.objects.get("Service", "host1!passive", attrs=["state"])["attrs"]["state"] != 2:
        assert time.time() < deadline, "the result did not change the state"
        time.sleep(0.2)
    r = client.actions.acknowledge_problem(
        "Service", 'host.name == "host1" && service.name == "passive"', "apic", "looking")
    assert [x["code"] for x in r["results"]] == [200], r
    ack = client.objects.get("Service", "host1!passive", attrs=["acknowledgement"])
    assert ack["attrs"]["acknowledgement"] == 1, ack
    step("acknowledge the problem")

    now = time.time()
    r = client.actions.schedule_downtime("Host", 'host.name == "apic1"', "apic", "maintenance",
                                         now, now + 3600, 0, fixed=True)
    name = r["results"][0]["name"]
    assert name.startswith("apic1!"), r
    deadline = time.time() + 20
    while client.objects.get("Host", "apic1", attrs=["downtime_depth"])["attrs"]["downtime_depth"] != 1:
        assert time.time() < deadline, "the downtime did not start"
        time.sleep(0.2)
    step("schedule a downtime")

    r = client.actions.remove_downtime("Downtime", name=name)
    assert r["results"][0]["code"] == 200, r
    try:
        left = client.objects.list("Downtime", filters='downtime.host_name == "apic1"')
    except Icinga2ApiException:
        left = []
    assert not left, left
    step("remove the downtime")

    r = client.objects.delete("Host", "apic1")
    assert r["results"][0]["status"] == "Object was deleted.", r
    try:
        client.objects.get("Host", "apic1")
        raise AssertionError("the deleted host is still there")
    except Icinga2ApiException:
        pass
    step("delete the host (with cascade)")
    print("session complete")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        print(f"FAIL {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
