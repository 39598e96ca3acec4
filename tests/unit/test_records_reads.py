"""Reads that moved into records from web/, remix/ and archive/: who may upload, who may fetch a
media file, a remix's title story, the post-show figures."""

from __future__ import annotations

import time

import pytest

from stage.errors import Forbidden
from stage.records import archive, moderation, night_stats, participants, remixes, submissions
from stage.records.store import Store


def record(store: Store, rid: str, kind: str, status: str, media: str | None = None, text: str | None = None,
           participant: str | None = None) -> None:
    now = time.time()
    with store.transaction() as db:
        db.execute("INSERT INTO records (id, kind, status, participant_id, crew_author, text, media, created_at,"
                   " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (rid, kind, status, participant, None if participant else "crew", text, media, now, now))


def test_only_a_joined_phone_that_is_not_banned_may_upload(store):
    with pytest.raises(Forbidden) as unknown:
        participants.uploader(store, "never-joined")
    assert unknown.value.code == "unknown_phone"
    ada, _ = participants.join(store, "adas-phone", "Ada")
    assert participants.uploader(store, "adas-phone") == ada.id
    moderation.ban(store, ada.id, "moderator")
    with pytest.raises(Forbidden) as banned:
        participants.uploader(store, "adas-phone")
    assert banned.value.code == "banned"


def test_media_use_says_whether_a_file_is_approved_or_only_a_hidden_take(store):
    assert submissions.media_use(store, "nobody.png") is None
    record(store, "d-1", "drawing", "pending", media="d.png")
    assert submissions.media_use(store, "d.png") == submissions.MediaUse(approved=False, hidden_take=False)
    record(store, "d-2", "drawing", "approved", media="d.png")
    assert submissions.media_use(store, "d.png").approved


def test_a_remix_is_titled_by_the_story_among_its_sources(store):
    record(store, "s-1", "story", "approved", text="A cape")
    record(store, "d-1", "drawing", "approved", media="d.png")
    assert remixes.story_among(store, ["d-1", "s-1"]) == "A cape"
    assert remixes.story_among(store, ["d-1"]) == "" and remixes.story_among(store, []) == ""


def test_night_figures_leave_rehearsal_phones_out(store):
    real, _ = participants.join(store, "real-phone", "Ada")
    participants.join(store, "sim-phone", "Sim", simulated=True)
    record(store, "s-1", "story", "pending", text="A cape", participant=real.id)
    moderation.decide(store, "s-1", "approve", "moderator")
    record(store, "s-2", "story", "approved", text="Crew", participant=None)
    assert len(night_stats.phones_joined(store)) == 1
    assert [kind for kind, _ in night_stats.audience_submissions(store)] == ["story"]
    assert len(night_stats.decision_delays(store)) == 1 and night_stats.decision_delays(store)[0] >= 0
    assert night_stats.recommendation_counts(store) == []
    assert archive.record_count(store) == 2
