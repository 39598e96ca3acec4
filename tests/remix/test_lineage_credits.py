"""Lineage and credits of a three-level remix, from real phone records, real takes and a real render."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid

import pytest
import requests

from stage.records.archive import Snapshot
from stage.errors import NotFound
from stage.records import credits, lineage, lookup
from stage.records.models import RECORD_COLUMNS, RECORD_FROM
from stage.remix import saving
from stage.remix.recipes import parse, resolve
from stage.remix.worker import render_into
from stage.media.library import MediaLibrary


def remix_of_take(night, take_id: str) -> str:
    """Render a captioned take in-process and store it as the crew does (pending), then approve it."""
    return remix_of(night, {"recipe": "captioned-take", "take": take_id})


def card_of(night, story: str, picture: str) -> str:
    return remix_of(night, {"recipe": "card", "story": story, "picture": picture, "seconds": 2})


def remix_of(night, recipe: dict) -> str:
    snap = Snapshot(night.data)
    plan, sources = resolve(snap, parse(recipe), night.data / "media")
    snap.close()
    made = render_into(plan, MediaLibrary(night.data / "media"), lambda f: None)
    draft = {"recipe": recipe, "sources": sources, "media": made["media"],
             "poster": None, "duration": made["duration"], "title": "cape"}
    record = _save_outside_server(night, draft)
    night.approve(record)
    return record


def card_media(night, record_id: str) -> str:
    with sqlite3.connect(night.data / "stage.db") as db:
        return db.execute("SELECT media FROM records WHERE id = ?", (record_id,)).fetchone()[0]


def _save_outside_server(night, draft) -> str:
    # The server owns the store (flock); a test writes the remix row the way saving.save does, through
    # its own Store-free connection, so the moderation of it still goes through the real server.
    record_id = str(uuid.uuid4())
    now = time.time()
    with sqlite3.connect(night.data / "stage.db") as db:
        db.execute("INSERT INTO records (id, kind, status, crew_author, text, media, created_at, updated_at)"
                   " VALUES (?, 'remix', 'pending', ?, ?, ?, ?, ?)",
                   (record_id, saving.CREW_AUTHOR, draft["title"], draft["media"], now, now))
        db.executemany("INSERT INTO record_sources (record_id, source_id) VALUES (?, ?)",
                       [(record_id, s) for s in draft["sources"]])
        db.execute("INSERT INTO state (key, value) VALUES (?, ?)", (f"remix.{record_id}", json.dumps(draft)))
    return record_id


def test_three_level_lineage_and_credits(remix_night):
    night = remix_night
    take = night.takes[0]
    with sqlite3.connect(night.data / "stage.db") as db:  # the performance showed Bea's drawing behind Cy
        db.execute("INSERT INTO record_sources (record_id, source_id, role) VALUES (?, ?, 'shown')",
                   (take, night.drawing))
    remix = remix_of_take(night, take)
    snap = Snapshot(night.data)
    graph = lineage.graph(snap, remix)
    ids = {n["id"]: n for n in graph["nodes"]}
    assert set(ids) == {remix, take, night.story, night.drawing}
    edges = {(e["from"], e["to"]) for e in graph["edges"]}
    assert {(take, remix), (night.story, take), (night.drawing, take), (night.story, night.drawing)} <= edges
    people = {p["name"]: p for p in credits.for_record(snap, remix)}
    assert people["Ada"]["roles"] == ["wrote"]
    assert people["Bea"]["roles"] == ["drew"]
    assert people["Cy"]["roles"] == ["performed"]
    assert people["Sam"]["roles"] == ["filmed"], "the camera operator the take was slated with"
    assert people[saving.CREW_AUTHOR]["roles"] == ["remix"]
    assert "Dee" not in people, "Dee's take is not in this remix"
    assert "stage-left" not in people, "a rig is not a person: it is never credited"
    roll = credits.roll(snap)
    assert [p["name"] for p in roll][:2] == ["Ada", "Bea"], "writers first, then illustrators"
    assert {p["name"] for p in roll} == {"Ada", "Bea", "Cy", "Dee", "Sam", saving.CREW_AUTHOR}
    assert next(p for p in roll if p["name"] == "Sam")["records"] == 1, "nobody was on camera for Dee's take"
    snap.close()


def test_a_records_wire_credits_name_each_person_once_per_role_in_roll_order(remix_night):
    night = remix_night
    remix = remix_of_take(night, night.takes[0])
    snap = Snapshot(night.data)
    shown = {r.id: r for r in lookup.with_sources(snap, snap.query(
        f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE r.id IN (?, ?, ?)", (remix, night.takes[1], night.story)))}
    wire = credits.of_records(snap, list(shown.values()))
    assert wire[remix] == [{"name": "Ada", "role": "wrote"}, {"name": "Cy", "role": "performed"},
                           {"name": "Sam", "role": "filmed"}, {"name": saving.CREW_AUTHOR, "role": "remix"}]
    assert wire[night.takes[1]] == [{"name": "Ada", "role": "wrote"}, {"name": "Dee", "role": "performed"}], \
        "a take nobody operated credits its camera to nobody"
    assert wire[night.story] == [{"name": "Ada", "role": "wrote"}]
    assert shown[night.takes[1]].author == "Dee", "a take's author, for readers of `author`, is its performer"
    snap.close()


def test_withdrawn_consent_rejection_and_rehearsal_phones_leave_the_credits(remix_night):
    night = remix_night
    remix = remix_of_take(night, night.takes[0])
    assert night.phones["Cy"].call("withdraw_consent")["ok"]
    other = night.write_story("Bea", "A second cape story, which the moderator rejects.")
    night.reject(other)
    rehearsal = night.write_story("Dee", "A rehearsal story from a simulated phone.")
    night.approve(rehearsal)
    with sqlite3.connect(night.data / "stage.db") as db:
        db.execute("UPDATE participants SET simulated = 1 WHERE id = ?", (night.phones["Dee"].participant["id"],))
    snap = Snapshot(night.data)
    names = {p["name"]: p["roles"] for p in credits.roll(snap)}
    assert "Cy" not in names, "a performer who withdrew consent is not credited"
    assert "Dee" not in names, "rehearsal phones are not credited"
    assert names["Ada"] == ["wrote"] and names["Bea"] == ["drew"]
    assert names.get(saving.CREW_AUTHOR) is None, "the remix of Cy's take is withheld with it"
    assert "Sam" not in names, "no take Sam filmed may be shown any more"
    with pytest.raises(NotFound):
        lineage.graph(snap, remix)
    with pytest.raises(NotFound):
        credits.for_record(snap, other)
    full = lineage.load(snap)
    assert not full.visible(night.takes[0]) and not full.visible(rehearsal) and full.visible(night.story)
    snap.close()


def test_a_remix_of_a_take_leaves_walls_and_feeds_when_its_performer_withdraws(remix_night):
    night = remix_night
    remix = remix_of_take(night, night.takes[0])
    display = night.peers.display("main")
    wall = display.wait_for("scene", lambda p: p["scene"]["type"] == "wall")
    assert remix in {r["id"] for r in wall["records"]}
    feed = night.phones["Ada"].call("feed", {"limit": 100})
    assert remix in {r["id"] for r in feed["records"]}

    assert night.phones["Cy"].call("withdraw_consent")["ok"]
    display.wait_for("wall_remove", lambda d: d["id"] == remix)
    assert remix not in {r["id"] for r in night.phones["Ada"].call("feed", {"limit": 100})["records"]}
    fresh = night.peers.display("main").wait_for("scene")
    assert remix not in {r["id"] for r in fresh["records"]} and night.story in {r["id"] for r in fresh["records"]}


def test_a_card_leaves_every_screen_when_its_story_is_withdrawn_or_hidden(remix_night, tmp_path):
    night = remix_night
    drawing_card = card_of(night, night.story, night.drawing)
    display = night.peers.display("main")
    wall = display.wait_for("scene", lambda p: p["scene"]["type"] == "wall")
    assert drawing_card in {r["id"] for r in wall["records"]}

    assert night.phones["Ada"].call("withdraw", {"id": night.story})["ok"]  # the story in the card's picture
    display.wait_for("wall_remove", lambda d: d["id"] == drawing_card)
    assert drawing_card not in {r["id"] for r in night.phones["Bea"].call("feed", {"limit": 100})["records"]}
    fresh = night.peers.display("main").wait_for("scene")
    assert drawing_card not in {r["id"] for r in fresh["records"]}
    card = requests.get(f"{night.stage.url}/media/{card_media(night, drawing_card)}")
    assert card.status_code == 404, "its file is no longer served to the public"
