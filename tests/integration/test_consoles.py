"""Host, moderator and crew consoles over real Socket.IO: roles, moderation tools, cue control."""

from __future__ import annotations

import csv
import io
import threading
import uuid

import pytest
import requests
import socketio

from tests.peers import Peer, go



def submit(phone: Peer, text: str) -> dict:
    return phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": text})


def test_each_role_reaches_only_its_namespaces(night):
    server, peers = night
    for role, namespace in (("moderator", "/host"), ("crew", "/moderation"), ("moderator", "/crew")):
        with pytest.raises(socketio.exceptions.ConnectionError, match="log in"):
            Peer(server.url, namespace, headers={"Cookie": server.cookie_header(role)})
    moderator = peers.moderation()
    assert moderator.call("go")["error"]["code"] == "unknown_event", "a moderator cannot GO"
    assert peers.moderation("host").wait_for("queue")["records"] == []
    crew = peers.crew()
    assert crew.call("moderate", {"id": str(uuid.uuid4()), "decision": "approve"})["error"]["code"] == "unknown_event"
    assert requests.get(f"{server.url}/moderate", allow_redirects=False).status_code == 302
    assert server.login("moderator").get(f"{server.url}/moderate").status_code == 200


def test_auto_approve_skips_the_queue_only_for_unflagged_records(night):
    server, peers = night
    host, moderator, display = peers.host(), peers.moderation(), peers.display("side")
    go(host), go(host)
    phone = peers.phone("Ada")
    clean = submit(phone, "A cape for the cat.")
    assert clean["record"]["status"] == "approved"
    assert display.wait_for("wall_add")["record"]["id"] == clean["record"]["id"]
    for text, flag in (("What the shit, a cape.", "profanity"), ("Spoiler: the cape wins.", "word:spoiler")):
        ack = submit(phone, text)
        assert ack["record"]["status"] == "pending"
        queued = moderator.wait_for("queue_add", lambda d: d["record"]["id"] == ack["record"]["id"])
        assert queued["record"]["flags"] == [flag]
    approvals = csv.DictReader(io.StringIO(server.login("host").get(f"{server.url}/host/audit.csv?action=approve").text))
    assert [(row["actor"], row["subject"]) for row in approvals] == [("auto-approve", clean["record"]["id"])]


def test_ban_rejects_every_pending_record_of_the_author_and_blocks_new_ones(night):
    server, peers = night
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)
    phone, other = peers.phone("Spam"), peers.phone("Fine")
    spam = [submit(phone, f"spoiler {i}")["record"]["id"] for i in range(2)]
    kept = submit(other, "spoiler, but fine")["record"]["id"]
    participant = moderator.wait_for("queue_add", lambda d: d["record"]["id"] == spam[0])["record"]["participant"]
    ack = moderator.call("ban", {"participant": participant})
    assert ack["ok"] and sorted(ack["rejected"]) == sorted(spam)
    statuses = [phone.wait_for("record_status")["record"] for _ in spam]
    assert {(s["status"], s["reason"]) for s in statuses} == {("rejected", "banned")}
    assert submit(phone, "again")["error"]["code"] == "banned"
    assert moderator.call("moderate", {"id": kept, "decision": "approve"})["ok"]
    assert moderator.call("ban", {"participant": str(uuid.uuid4())})["error"]["code"] == "not_found"


def test_send_to_display_and_hide_take_a_story_on_and_off_the_screen(night):
    server, peers = night
    host, moderator, display = peers.host(), peers.moderation(), peers.display("main")
    go(host), go(host)
    phone = peers.phone("Ada")
    pending = submit(phone, "spoiler pending")["record"]["id"]
    shown = submit(phone, "The cape flew.")["record"]["id"]
    refused = host.call("send_to_display", {"display": "main", "record": pending})
    assert refused["error"]["code"] == "not_approved"
    assert host.call("send_to_display", {"display": "main", "record": shown})["ok"]
    scene = display.wait_for("scene", lambda s: s["scene"]["type"] == "story")
    assert scene["record"]["text"] == "The cape flew."
    assert moderator.call("moderate", {"id": shown, "decision": "hide"})["ok"]
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "story")["record"] is None
    assert display.wait_for("wall_remove")["id"] == shown
    assert moderator.call("moderate", {"id": pending, "decision": "hide"})["error"]["code"] == "not_approved"


def test_back_jump_stop_and_timed_cues_over_the_wire(night):
    server, peers = night
    host, display = peers.host(), peers.display("main")
    assert host.call("jump", {"cue": "3"})["standby"] == "3"
    assert host.call("jump", {"cue": "nope"})["error"]["code"] == "not_found"
    assert go(host)["fired"]["state"] == "running"  # the 0.6 s wait, then auto-follow into cue 4
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "wall")
    cues = host.wait_for("cues", lambda s: s["standby"] == "5")
    assert {c["id"]: c["state"] for c in cues["cues"]}["3"] == "done"
    assert host.call("back")["standby"] == "4"
    assert host.call("jump", {"cue": "5"})["ok"]
    assert go(host)["fired"]["state"] == "pre_wait"
    assert host.call("stop")["stopped"] == ["5"]
    final = host.wait_for("cues", lambda s: {c["id"]: c["state"] for c in s["cues"]}["5"] == "stopped")
    assert final["running"] == []


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


def test_panic_stops_cues_and_sets_the_panic_scene(night):
    server, peers = night
    host, display = peers.host(), peers.display("main")
    host.call("jump", {"cue": "5"})
    go(host)
    ack = host.call("panic")
    assert ack["ok"] and ack["panic"]["stopped"] == ["5"] and ack["panic"]["scene"] == "blank"
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "blank")
    newest_first = [(e["action"], e["subject"]) for e in host.call("audit", {})["entries"]]
    assert newest_first[:4] == [("scene", "side"), ("scene", "main"), ("panic", None), ("stop", None)]


def test_audit_log_csv_is_for_the_host_only_and_defuses_formulas(night):
    server, peers = night
    host = peers.host()
    go(host), go(host)
    phone = peers.phone("=HYPERLINK(\"x\")")
    submit(phone, "A cape.")
    assert server.login("moderator").get(f"{server.url}/host/audit.csv").status_code == 403
    text = server.login("host").get(f"{server.url}/host/audit.csv?action=go").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["subject"] for r in rows] == ["1", "2"]
    joins = list(csv.DictReader(io.StringIO(server.login("host").get(f"{server.url}/host/audit.csv?action=join").text)))
    assert joins[0]["detail"].startswith('{"name": "=HYPERLINK')  # JSON text, not a formula cell
