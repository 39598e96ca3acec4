"""The first night in process: phone -> moderation -> display, with the store checked on disk, on both
backends (``database``: SQLite in the data directory, or a real PostgreSQL).

Moved from ``tests/integration/test_first_night.py``; an oversized message, which only a real transport
can refuse, stays there.
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing

import pytest
from flask import Flask

from tests.conftest import demo_show
from tests.in_process import Console, built_app
from tests.peers import go


@pytest.fixture
def app(tmp_path, database):
    with built_app(demo_show(tmp_path), tmp_path / "data", database=database) as (app, _socketio):
        yield app


def db_rows(app: Flask, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows read through a connection of their own: what is committed, not what the app's store holds."""
    settings = app.extensions["stage.night"].settings
    if settings.database:
        import psycopg

        with psycopg.connect(settings.database) as db:
            return [tuple(row) for row in db.execute(sql.replace("?", "%s"), params).fetchall()]
    path = settings.data_dir / "stage.db"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return db.execute(sql, params).fetchall()


def open_prompt(host: Console) -> None:
    """GO cue 1 (join scene) and cue 2 (open the cape prompt) of the demo show."""
    for expected in ("1", "2"):
        ack = go(host)
        assert ack["ok"] and ack["fired"]["cue"] == expected and ack["fired"]["state"] == "done", ack


def test_healthz_reports_show_phones_displays_rigs_and_cue(client, consoles):
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["show"].startswith("Tiny Stories")
    assert health["phones"] == 0 and health["cue"] == "1"
    assert health["displays"] == {"main": 0} and health["rigs"] == {"stage": "offline"}
    consoles.phone("Ada")
    consoles.phone("Bo")
    consoles.display()
    health = client.get("/healthz").get_json()
    assert health["phones"] == 2 and health["displays"] == {"main": 1}


def test_story_goes_from_phone_through_moderation_to_the_wall(app, consoles):
    host = consoles.host()
    moderator = consoles.moderation()
    display = consoles.display()
    assert display.wait_for("scene")["scene"]["type"] == "join"
    phone = consoles.phone("Ada")
    assert phone.joined["prompt"] is None
    open_prompt(host)
    assert phone.wait_for("prompt")["prompt"]["id"] == "cape"

    story_id = str(uuid.uuid4())
    ack = phone.call("submit_story", {"id": story_id, "prompt": "cape", "text": "The cape fit nobody."})
    assert ack["ok"] and ack["record"]["status"] == "pending" and ack["record"]["author"] == "Ada"
    # The ack came after the commit: the record is on disk already.
    on_disk = db_rows(app, "SELECT status, text FROM records WHERE id = ?", (story_id,))
    assert on_disk == [("pending", "The cape fit nobody.")]
    queued = moderator.wait_for("queue_add")["record"]
    assert queued["id"] == story_id and queued["participant"] == phone.participant["id"] and queued["flags"] == []
    assert display.drain("wall_add") == [], "nothing unmoderated reaches a display"

    assert go(host)["fired"]["cue"] == "3"  # the wall
    wall = display.wait_for("scene", lambda s: s["scene"]["type"] == "wall")
    assert wall["records"] == []
    decided = moderator.call("moderate", {"id": story_id, "decision": "approve"})
    assert decided["ok"] and decided["record"]["status"] == "approved"
    assert phone.wait_for("record_status")["record"]["status"] == "approved"
    assert display.wait_for("wall_add")["record"]["text"] == "The cape fit nobody."
    assert moderator.wait_for("queue_remove")["id"] == story_id
    actions = [r[0] for r in db_rows(app, "SELECT action FROM audit WHERE subject = ? ORDER BY seq", (story_id,))]
    assert actions == ["submit", "approve"]


def test_rejected_story_never_reaches_a_display_and_phone_sees_reason(consoles):
    host = consoles.host()
    moderator = consoles.moderation()
    open_prompt(host)
    go(host)
    display = consoles.display()
    display.wait_for("scene", lambda s: s["scene"]["type"] == "wall")
    phone = consoles.phone("Ada")
    story_id = str(uuid.uuid4())
    phone.call("submit_story", {"id": story_id, "prompt": "cape", "text": "Something rude"})
    ack = moderator.call("moderate", {"id": story_id, "decision": "reject", "reason": "off topic"})
    assert ack["ok"]
    status = phone.wait_for("record_status")["record"]
    assert status["status"] == "rejected" and status["reason"] == "off topic"
    assert display.wait_for("wall_remove")["id"] == story_id  # sent after any wall_add would have been
    assert display.drain("wall_add") == []
    reconnect = consoles.display()
    assert reconnect.wait_for("scene")["records"] == []


def test_same_submission_twice_stores_one_record_and_acks_the_first(app, consoles):
    open_prompt(consoles.host())
    phone = consoles.phone("Ada")
    story = {"id": str(uuid.uuid4()), "prompt": "cape", "text": "Twice told."}
    first = phone.call("submit_story", story)
    again = phone.call("submit_story", story)
    changed = phone.call("submit_story", {**story, "text": "A different text, same id"})
    assert first["ok"] and again == first and changed == first
    assert db_rows(app, "SELECT COUNT(*) FROM records") == [(1,)]
    other = consoles.phone("Bo")
    stolen = other.call("submit_story", story)
    assert stolen["ok"] is False and stolen["error"]["code"] == "id_conflict"
    assert db_rows(app, "SELECT COUNT(*) FROM audit WHERE action = 'submit'") == [(1,)]


def test_bad_stories_get_error_acks_and_store_nothing(app, consoles):
    open_prompt(consoles.host())
    phone = consoles.phone("Ada")

    def submit(**fields):
        payload = {"id": str(uuid.uuid4()), "prompt": "cape", "text": "ok", **fields}
        return phone.call("submit_story", {k: v for k, v in payload.items() if v is not None})

    cases = {
        "empty": submit(text="   \n "),
        "too_long": submit(text="x" * 281),
        "too_many_words": submit(text=" ".join(["word"] * 31)),
        "not_a_string": submit(text=12345),
        "missing_text": phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape"}),
        "bad_id": submit(id="not-a-uuid"),
        "extra_field": submit(html="<b>"),
        "not_an_object": phone.call("submit_story", "just a string"),
        "no_payload": phone.call("submit_story"),  # Console.call sends no argument at all, as python-socketio does
        "closed_prompt": submit(prompt="other"),
    }
    codes = {name: ack["error"]["code"] for name, ack in cases.items() if not ack["ok"]}
    assert codes == {
        "empty": "empty", "too_long": "too_long", "too_many_words": "too_long", "not_a_string": "invalid_payload",
        "missing_text": "invalid_payload", "bad_id": "invalid_payload", "extra_field": "invalid_payload",
        "not_an_object": "invalid_payload", "no_payload": "invalid_payload", "closed_prompt": "prompt_closed",
    }
    assert all(ack["error"]["message"] for ack in cases.values())
    assert db_rows(app, "SELECT COUNT(*) FROM records") == [(0,)]


def test_submit_needs_join_and_an_open_prompt(app, consoles):
    anonymous = consoles.open("/audience")
    ack = anonymous.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": "hi"})
    assert ack["error"]["code"] == "not_joined"
    phone = consoles.phone("Ada")
    ack = phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": "hi"})
    assert ack["error"]["code"] == "prompt_closed"
    assert db_rows(app, "SELECT COUNT(*) FROM records") == [(0,)]


def test_markup_and_bidi_controls_are_stored_as_plain_text(consoles):
    open_prompt(consoles.host())
    phone = consoles.phone("<b>Eve</b>\u202e")
    assert phone.participant["name"] == "<b>Eve</b>"
    text = "<script>alert(1)</script> \u202egnirts\u202c ok"
    ack = phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": text})
    assert ack["record"]["text"] == "<script>alert(1)</script> gnirts ok"


def test_a_flood_of_submissions_is_rate_limited_without_losing_accepted_ones(app, consoles):
    open_prompt(consoles.host())
    phone = consoles.phone("Ada")
    acks = [phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": f"story {i}"})
            for i in range(12)]
    accepted = [a for a in acks if a["ok"]]
    limited = [a for a in acks if not a["ok"]]
    assert accepted and limited and all(a["error"]["code"] == "rate_limited" for a in limited)
    stored = db_rows(app, "SELECT id FROM records")
    assert sorted(r[0] for r in stored) == sorted(a["record"]["id"] for a in accepted)


def test_phone_rejoins_with_its_device_key_and_sees_its_records(consoles):
    open_prompt(consoles.host())
    phone = consoles.phone("Ada")
    story_id = str(uuid.uuid4())
    phone.call("submit_story", {"id": story_id, "prompt": "cape", "text": "Mine."})
    phone.close()
    again = consoles.phone("Ada", device_key=phone.device_key)
    assert again.participant["id"] == phone.participant["id"]
    assert [r["id"] for r in again.joined["records"]] == [story_id]
    assert again.joined["prompt"]["id"] == "cape"


def test_cue_whose_part_is_missing_fails_with_a_clear_error_and_standby_moves_on(client, consoles):
    host = consoles.host()
    for _ in range(4):
        assert go(host)["ok"]
    fired = go(host)["fired"]  # cue 5: lights (OSC, and a 3 s fade of Stage's own), story scene, take
    assert fired["cue"] == "5" and fired["state"] == "running"  # the fade runs on; the group ends when it does
    cues = host.wait_for("cues", lambda s: s["standby"] == "6" and s["cues"][4]["state"] == "error")
    states = {c["id"]: c for c in cues["cues"]}
    assert states["5.4"]["state"] == "done"  # the failed parts did not stop the fade
    assert states["5.1"]["state"] == "done"  # the lighting cue went out (OSC dry run in process: logged, not sent)
    assert "nothing is chosen for the story scene" in states["5.2"]["error"] and "capture" in states["5.3"]["error"]
    assert client.get("/healthz").get_json()["cue"] == "6"
