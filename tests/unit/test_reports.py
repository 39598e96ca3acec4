"""The night reports finished events with their payloads (issue 15): a whole Night on a fake clock and a
listener that only records, so every report, its data and its batching can be checked without a socket."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from stage.lighting.sender import OscSender
from stage.night import Night
from stage.night.reports import COUNTS_INTERVAL, FEED_INTERVAL
from stage.realtime.presence import Presence
from stage.records.sqlite_store import SqliteStore
from stage.settings import Settings
from stage.show.clock import FakeClock
from stage.show.loader import parse_show

SHOW = """
title: Reports
displays: [{name: main}, {name: side}]
prompts: [{id: tiny, text: "A tiny story", kinds: [story]}]
cues: [{type: prompt, prompt: tiny}]
"""


class Recorder:
    """Every report the night makes, in order, as (name, args)."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.reports.append((name, args))

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.reports if n == name]


@pytest.fixture
def night(tmp_path: Path):
    store = SqliteStore(tmp_path / "stage.db")
    show = parse_show(SHOW)
    listener, clock, presence = Recorder(), FakeClock(), Presence()
    osc = OscSender([], spawn=lambda fn, *a: threading.Thread(target=fn, args=a, daemon=True).start(),
                    sleep=lambda s: None, dry_run=True)
    n = Night(Settings(show_path=tmp_path / "show.yaml", data_dir=tmp_path, secret_key=b"k" * 32), show, store,
              listener, clock, osc, presence, "http://stage.local/")
    n.engine.go("host")  # the prompt opens
    yield n, listener, clock
    n.close()
    store.close()


def _story(n: Night, text: str = "Once") -> Any:
    participant = n.audience.join(uuid.uuid4().hex, "Ada", False)
    return n.audience.submit_story(participant.id, "tiny", str(uuid.uuid4()), text)


def test_a_submission_is_reported_with_its_moderation_view(night):
    n, listener, _ = night
    record = _story(n)
    [(reported, view)] = listener.named("record_submitted")
    assert reported.id == record.id and view["id"] == record.id and view["author"] == "Ada" and view["remix_of"] == []


def test_an_approval_reports_its_view_its_wall_card_and_one_batched_feed_update(night):
    n, listener, clock = night
    record = _story(n)
    n.moderation.decide(record.id, "approve", "mod")
    [(decided, view)] = listener.named("record_decided")
    assert decided.status == "approved" and view["id"] == record.id
    [(card,)] = listener.named("wall_add")
    assert card["id"] == record.id and card["text"] == "Once" and "participant_id" not in card
    n.audience.recommend(n.audience.join(uuid.uuid4().hex, "Bo", False).id, record.id, True)
    assert listener.named("feed_update") == []  # batched: nothing before the interval
    clock.advance(FEED_INTERVAL)
    [(items, removed)] = listener.named("feed_update")  # the approval and the recommendation in one update
    assert [(i["id"], i["recommendations"]) for i in items] == [(record.id, 1)] and removed == []


def test_a_rejection_leaves_every_screen_and_a_display_showing_it_gets_its_scene_again(night):
    n, listener, clock = night
    record = _story(n)
    n.moderation.decide(record.id, "approve", "mod")
    n.moderation.send_to_display("main", record.id, "host")
    listener.reports.clear()
    n.moderation.decide(record.id, "reject", "mod")
    assert listener.named("record_decided")[0][1] is None  # no moderation view: it left the approved list
    assert listener.named("wall_remove") == [([record.id],)]
    [(display, scene, payload)] = listener.named("scene_changed")
    assert (display, scene["type"], payload["record"]) == ("main", "story", None)  # the fallback, not the story
    clock.advance(FEED_INTERVAL)
    assert listener.named("feed_update") == [([], [record.id])]


def test_counts_are_batched_and_carry_what_the_consoles_show(night):
    n, listener, clock = night
    for _ in range(3):
        _story(n)
    assert listener.named("counts_changed") == []
    clock.advance(COUNTS_INTERVAL)
    [(counts,)] = listener.named("counts_changed")
    assert counts == {"phones": 0, "pending": 3, "displays": {"main": 0, "side": 0}, "rigs": {}}


def test_a_closed_night_reports_no_batch_still_due(night):
    n, listener, clock = night
    record = _story(n)
    n.moderation.decide(record.id, "approve", "mod")
    n.close()
    clock.advance(FEED_INTERVAL + COUNTS_INTERVAL)
    assert listener.named("feed_update") == [] and listener.named("counts_changed") == []
