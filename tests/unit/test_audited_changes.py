"""Changes that records functions keep and audit in one go: scenes, rig take reports, stops, remixes."""

from __future__ import annotations

import time

import pytest

from stage.display.board import DisplayBoard
from stage.errors import StoreError
from stage.records import audit_log, remixes, scenes, takes
from stage.records.store import Store
from stage.night.recording import Recording
from stage.show.loader import parse_show

SHOW = parse_show("""
title: Audit test
displays: [{name: main}]
rigs: [{name: stage}]
cues: [{type: note}]
""")


def newest(store: Store) -> dict:
    return audit_log.entries(store, limit=1)[0]


def test_a_scene_is_kept_and_audited_and_a_restarted_board_shows_it(store):
    shown = DisplayBoard(SHOW, store, lambda name, scene: None).set_scene("main", "message", "host", text="Hi")
    assert scenes.current(store, "main") == shown
    assert {k: newest(store)[k] for k in ("actor", "action", "subject", "detail")} == \
        {"actor": "host", "action": "scene", "subject": "main", "detail": {"scene": "message"}}
    assert DisplayBoard(SHOW, store, lambda name, scene: None).scene("main") == shown  # restored after a restart


def test_a_rig_report_is_audited_under_the_rigs_name(store):
    rigs = Recording(SHOW, store, lambda: None)
    rigs.take_state("stage", "t-1", "failed", "disk full")
    entry = newest(store)
    assert (entry["actor"], entry["action"], entry["subject"], entry["detail"]) == \
        ("rig:stage", "take_failed", "t-1", {"reason": "disk full"})


def test_a_stop_is_audited_with_its_rig(store):
    takes.stopped(store, "t-1", "stage", "host")
    entry = newest(store)
    assert (entry["actor"], entry["action"], entry["subject"], entry["detail"]) == \
        ("host", "take_stop", "t-1", {"rig": "stage"})


def test_a_remix_commits_its_record_sources_recipe_and_audit_rows_together(store):
    now = time.time()
    with store.transaction() as db:
        db.execute("INSERT INTO records (id, kind, status, crew_author, text, created_at, updated_at)"
                   " VALUES ('s-1', 'story', 'approved', 'crew', 'A tale', ?, ?)", (now, now))
    record = remixes.create(store, author="Stage crew", title="Story card: A tale", media="m.mp4", sources=["s-1"],
                            recipe={"recipe": "card"}, poster="p.png", duration=4.0, actor="crew", approved=True)
    assert (record.kind, record.status, record.sources) == ("remix", "approved", ("s-1",))
    assert store.get_state(f"remix.{record.id}") == {"recipe": {"recipe": "card"}, "poster": "p.png", "duration": 4.0}
    assert [(e["action"], e["subject"]) for e in audit_log.entries(store, limit=2)] == \
        [("approve", record.id), ("remix", record.id)]


def test_a_remix_with_an_unknown_source_leaves_nothing_behind(store):
    with pytest.raises(StoreError, match="could not save"):
        remixes.create(store, author="Stage crew", title="Reel", media="m.mp4", sources=["no-such-record"],
                       recipe={"recipe": "reel"}, poster=None, duration=None, actor="crew", approved=False)
    assert store.query("SELECT COUNT(*) FROM records WHERE kind = 'remix'")[0][0] == 0
    assert audit_log.entries(store, action="remix") == []
