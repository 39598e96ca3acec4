"""Host, moderator and crew consoles in process: roles, moderation tools, cue control.

The console test show (tests/shows/console.yaml: timed cues, auto-approve, a word list, a panic
scene). What needs the real transport (a console dropping without a close handshake, two hosts
pressing GO at the same instant) stays in tests/integration/test_consoles.py.
"""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests.conftest import CONSOLE_SHOW
from tests.in_process import Console, built_app, logged_in
from tests.peers import go


@pytest.fixture
def app(tmp_path):
    """The console test show's app (replaces conftest's demo night for this module's fixtures)."""
    with built_app(CONSOLE_SHOW, tmp_path / "data") as (app, _socketio):
        yield app


def submit(phone: Console, text: str) -> dict:
    return phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": text})


def test_each_role_reaches_only_its_namespaces(app, socketio, client, consoles):
    for role, namespace in (("moderator", "/host"), ("crew", "/moderation"), ("moderator", "/crew")):
        assert "log in" in consoles.refusal(namespace, role=role)["message"]
    moderator = consoles.moderation()
    assert moderator.call("go")["error"]["code"] == "unknown_event", "a moderator cannot GO"
    assert consoles.moderation("host").wait_for("queue")["records"] == []
    crew = consoles.crew()
    assert crew.call("moderate", {"id": str(uuid.uuid4()), "decision": "approve"})["error"]["code"] == "unknown_event"
    assert client.get("/moderate").status_code == 302
    assert logged_in(app, "moderator").get("/moderate").status_code == 200


def audit_csv(app, query: str) -> list[dict[str, str]]:
    text = logged_in(app, "host").get(f"/host/audit.csv?{query}").get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(text)))


def test_auto_approve_skips_the_queue_only_for_unflagged_records(app, consoles):
    host, moderator, display = consoles.host(), consoles.moderation(), consoles.display("side")
    go(host), go(host)
    phone = consoles.phone("Ada")
    clean = submit(phone, "A cape for the cat.")
    assert clean["record"]["status"] == "approved"
    assert display.wait_for("wall_add")["record"]["id"] == clean["record"]["id"]
    for text, flag in (("What the shit, a cape.", "profanity"), ("Spoiler: the cape wins.", "word:spoiler")):
        ack = submit(phone, text)
        assert ack["record"]["status"] == "pending"
        queued = moderator.wait_for("queue_add", lambda d: d["record"]["id"] == ack["record"]["id"])
        assert queued["record"]["flags"] == [flag]
    approvals = audit_csv(app, "action=approve")
    assert [(row["actor"], row["subject"]) for row in approvals] == [("auto-approve", clean["record"]["id"])]


def test_ban_rejects_every_pending_record_of_the_author_and_blocks_new_ones(consoles):
    host, moderator = consoles.host(), consoles.moderation()
    go(host), go(host)
    phone, other = consoles.phone("Spam"), consoles.phone("Fine")
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


def test_send_to_display_and_hide_take_a_story_on_and_off_the_screen(consoles):
    host, moderator, display = consoles.host(), consoles.moderation(), consoles.display("main")
    go(host), go(host)
    phone = consoles.phone("Ada")
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


def test_back_jump_stop_and_timed_cues(consoles):
    host, display = consoles.host(), consoles.display("main")
    assert host.call("jump", {"cue": "3"})["standby"] == "3"
    assert host.call("jump", {"cue": "nope"})["error"]["code"] == "not_found"
    assert go(host)["fired"]["state"] == "running"  # the 0.6 s wait, then auto-follow into cue 4
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "wall")  # the timer: a task on gevent's hub
    cues = host.wait_for("cues", lambda s: s["standby"] == "5")
    assert {c["id"]: c["state"] for c in cues["cues"]}["3"] == "done"
    assert host.call("back")["standby"] == "4"
    assert host.call("jump", {"cue": "5"})["ok"]
    assert go(host)["fired"]["state"] == "pre_wait"
    assert host.call("stop")["stopped"] == ["5"]
    final = host.wait_for("cues", lambda s: {c["id"]: c["state"] for c in s["cues"]}["5"] == "stopped")
    assert final["running"] == []


def test_panic_stops_cues_and_sets_the_panic_scene(consoles):
    host, display = consoles.host(), consoles.display("main")
    host.call("jump", {"cue": "5"})
    go(host)
    ack = host.call("panic")
    assert ack["ok"] and ack["panic"]["stopped"] == ["5"] and ack["panic"]["scene"] == "blank"
    assert display.wait_for("scene", lambda s: s["scene"]["type"] == "blank")
    newest_first = [(e["action"], e["subject"]) for e in host.call("audit", {})["entries"]]
    assert newest_first[:4] == [("scene", "side"), ("scene", "main"), ("panic", None), ("stop", None)]


def test_audit_log_csv_is_for_the_host_only_and_defuses_formulas(app, consoles):
    host = consoles.host()
    go(host), go(host)
    phone = consoles.phone("=HYPERLINK(\"x\")")
    submit(phone, "A cape.")
    assert logged_in(app, "moderator").get("/host/audit.csv").status_code == 403
    rows = audit_csv(app, "action=go")
    assert [r["subject"] for r in rows] == ["1", "2"]
    joins = audit_csv(app, "action=join")
    assert joins[0]["detail"].startswith('{"name": "=HYPERLINK')  # JSON text, not a formula cell
