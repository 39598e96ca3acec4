"""The take domain on a real store: who performs, take numbers, idempotent commit, hiding."""

from __future__ import annotations

import time

import pytest

from stage.errors import InvalidInput, NotFound
from stage.records import takes, volunteers
from stage.records.store import Store
from stage.show.models import Consent


def person(store: Store, pid: str, name: str, consent: bool = True) -> str:
    now = time.time()
    with store.transaction() as db:
        db.execute("INSERT INTO participants (id, device_key_hash, name, consent, created_at, last_seen)"
                   " VALUES (?, ?, ?, ?, ?, ?)", (pid, pid, name, int(consent), now, now))
    return pid


def story(store: Store, sid: str, author: str) -> str:
    now = time.time()
    with store.transaction() as db:
        db.execute("INSERT INTO records (id, kind, status, participant_id, author_name, text, created_at, updated_at)"
                   " VALUES (?, 'story', 'approved', ?, 'x', 'A tale', ?, ?)", (sid, author, now, now))
    return sid


def offer(store: Store, pid: str, story_id: str | None, at: float, withdrawn: bool = False) -> None:
    with store.transaction() as db:
        db.execute("INSERT INTO volunteers (participant_id, story_id, consent_version, consent_text, given_at,"
                   " withdrawn_at) VALUES (?, ?, '1', 'ok', ?, ?)", (pid, story_id, at, at + 1 if withdrawn else None))


def test_the_performer_is_the_volunteer_for_the_story_else_the_newest_volunteer(store):
    ada, bo, cy = person(store, "p-ada", "Ada"), person(store, "p-bo", "Bo"), person(store, "p-cy", "Cy")
    tale = story(store, "s-1", ada)
    assert takes.performer_for(store, tale) is None
    offer(store, ada, tale, at=1)
    offer(store, bo, None, at=2)  # newer, but for no story
    assert takes.performer_for(store, tale)["name"] == "Ada"
    assert takes.performer_for(store, None)["name"] == "Bo"
    offer(store, cy, tale, at=3, withdrawn=True)
    assert takes.performer_for(store, tale)["name"] == "Ada", "a withdrawn offer does not count"


def started_take(store: Store, take_id: str, story_id: str | None, performer: str | None) -> dict:
    slate = {"show": "S", "cue": "5.3", "story_id": story_id, "story": None, "performer_id": performer,
             "performer": "Ada", "take": takes.next_number(store, story_id)}
    takes.start(store, take_id, "stage", "5.3", slate, "test")
    return slate


def test_numbers_count_per_story_and_commit_is_idempotent(store):
    ada = person(store, "p-ada", "Ada")
    tale = story(store, "s-1", ada)
    ids = ["00000000-0000-4000-8000-00000000000" + str(n) for n in range(4)]
    assert started_take(store, ids[0], tale, ada)["take"] == 1
    assert started_take(store, ids[1], tale, ada)["take"] == 2
    assert started_take(store, ids[2], None, None)["take"] == 1
    meta = {"duration": 3.0, "width": 320, "height": 240, "frames": 75, "sha256": "a" * 64}
    first = takes.commit(store, ids[1], "a" * 64 + ".mp4", meta, "crew")
    assert takes.commit(store, ids[1], "a" * 64 + ".mp4", meta, "crew") == first
    assert (first["take"], first["story_id"], first["performer_id"]) == (2, tale, ada)
    with pytest.raises(NotFound):
        takes.commit(store, ids[3], "b" * 64 + ".mp4", meta, "crew")  # never started


def test_trim_bounds_and_hiding_by_consent(store):
    ada = person(store, "p-ada", "Ada")
    take_id = "00000000-0000-4000-8000-000000000009"
    started_take(store, take_id, None, ada)
    takes.commit(store, take_id, "c" * 64 + ".mp4", {"duration": 2.0, "sha256": "c" * 64}, "crew")
    assert takes.set_points(store, take_id, 0.0, 2.0, "crew")["out_point"] == 2.0
    with pytest.raises(InvalidInput):
        takes.set_points(store, take_id, 1.0, 1.0, "crew")
    with pytest.raises(InvalidInput):
        takes.set_points(store, take_id, None, 2.5, "crew")
    status = lambda: store.query("SELECT status FROM shown_records WHERE id = ?", (take_id,))[0]["status"]  # noqa: E731
    assert status() == "approved" and len(takes.library(store)) == 1
    assert volunteers.withdraw_consent(store, ada) is False  # no standing offer, but the takes still hide
    assert status() == "withdrawn" and takes.library(store) == []
    assert store.query("SELECT status FROM records WHERE id = ?", (take_id,))[0]["status"] == "approved", \
        "hiding keeps the record as it was: the archive can still say it existed (with --include-withheld)"
    volunteers.volunteer(store, ada, Consent(), "1", None)  # consenting again is for new takes only
    assert status() == "withdrawn" and takes.library(store) == []
