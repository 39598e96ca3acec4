"""Host consoles over real Socket.IO, for what needs the real transport: a console whose connection
drops without a close handshake, and GO pressed by two hosts at the same instant. The rest of the
console tests run in process (tests/app/test_consoles.py)."""

from __future__ import annotations

import threading

from tests.peers import go


# Needs a real server: the console's connection drops without a close handshake (the test client
# only disconnects cleanly).
def test_a_console_that_drops_mid_cue_finds_the_cue_still_running_when_it_returns(night):
    server, peers = night
    host = peers.host()
    host.call("jump", {"cue": "3"})
    go(host)
    host.drop()
    again = peers.host()
    first = {c["id"]: c["state"] for c in again.wait_for("cues")["cues"]}
    assert first["3"] == "running" and first["4"] == "standby"
    finished = again.wait_for("cues", lambda s: {c["id"]: c["state"] for c in s["cues"]}["4"] == "done")
    assert finished["standby"] == "5"


# Needs a real server: two GOs handled at the same instant (the test client runs handlers one at a time).
def test_go_storms_and_two_hosts_at_once_advance_exactly_once(night):
    server, peers = night
    hosts = [peers.host(), peers.host()]
    barrier = threading.Barrier(2)
    acks = []

    def press(host):
        barrier.wait()
        acks.append(host.call("go"))

    threads = [threading.Thread(target=press, args=(h,)) for h in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(bool(a["fired"].get("debounced")) for a in acks) == [False, True]
    storm = [hosts[0].call("go") for _ in range(5)]
    assert sum(1 for a in storm if not a["fired"].get("debounced")) <= 1
    entries = hosts[0].call("audit", {"action": "go_debounced"})["entries"]
    assert len(entries) == 1 + sum(1 for a in storm if a["fired"].get("debounced"))
