"""The store and the records domain: migrations, idempotent submits, moderation, the audit log.

Every test runs on both backends (``store`` from tests/conftest.py) but the ones named for SQLite;
PostgreSQL's own (its schema, locks, faults) are in test_postgres_store.py."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from stage.errors import Conflict, Forbidden, InvalidInput, NotFound, StoreError
from stage.records import lookup, moderation, participants, submissions
from stage.records.migrations import MIGRATIONS
from stage.records.sqlite_store import SqliteStore
from stage.records.store import Store
from stage.show.models import Prompt

PROMPT = Prompt(id="cape", text="A cape", max_chars=40, max_words=6)


def new_id() -> str:
    return str(uuid.uuid4())


def test_migrations_bring_a_new_sqlite_file_to_the_latest_schema_in_wal_mode(tmp_path):
    store = SqliteStore(tmp_path / "stage.db")
    assert store.schema_version() == len(MIGRATIONS)
    assert store.query("PRAGMA user_version")[0][0] == len(MIGRATIONS)
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    tables = {r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"participants", "records", "record_sources", "audit", "state"} <= tables
    store.close()


def test_a_newer_schema_is_refused_by_the_sqlite_store(tmp_path):
    path = tmp_path / "stage.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer Stage"):
        SqliteStore(path)


def test_join_keeps_one_participant_per_device_key(store):
    ada, new = participants.join(store, "k" * 32, "  Ada  ")
    again, again_new = participants.join(store, "k" * 32, "Ada L.")
    assert new and not again_new and again.id == ada.id and again.name == "Ada L."
    assert store.query("SELECT COUNT(*) FROM participants")[0][0] == 1
    assert store.query("SELECT device_key_hash FROM participants")[0][0] != "k" * 32, "the key itself is not stored"
    with pytest.raises(InvalidInput):
        participants.join(store, "j" * 32, "\u202e  \x00")
    with pytest.raises(InvalidInput):
        participants.join(store, "j" * 32, "x" * 41)


def test_submit_is_idempotent_by_client_id_and_checks_the_author(store):
    ada, _ = participants.join(store, "a" * 32, "Ada")
    bo, _ = participants.join(store, "b" * 32, "Bo")
    record_id = new_id()
    first, created = submissions.submit_story(store, ada.id, PROMPT, record_id, "A red cape.")
    again, created_again = submissions.submit_story(store, ada.id, PROMPT, record_id, "Something else")
    assert created and not created_again and again == first and first.status == "pending"
    with pytest.raises(Conflict):
        submissions.submit_story(store, bo.id, PROMPT, record_id, "A red cape.")
    assert store.query("SELECT COUNT(*) FROM records")[0][0] == 1
    assert store.query("SELECT COUNT(*) FROM audit WHERE action = 'submit'")[0][0] == 1


@pytest.mark.parametrize("text, code", [("", "empty"), (" \n\t ", "empty"), ("x" * 41, "too_long"),
                                        ("one two three four five six seven", "too_long")])
def test_submit_refuses_stories_outside_the_prompt_limits(store, text, code):
    ada, _ = participants.join(store, "a" * 32, "Ada")
    with pytest.raises(InvalidInput) as info:
        submissions.submit_story(store, ada.id, PROMPT, new_id(), text)
    assert info.value.code == code
    assert store.query("SELECT COUNT(*) FROM records")[0][0] == 0


def test_banned_participants_cannot_submit(store):
    ada, _ = participants.join(store, "a" * 32, "Ada")
    with store.transaction() as db:
        db.execute("UPDATE participants SET banned = 1")
    with pytest.raises(Forbidden):
        submissions.submit_story(store, ada.id, PROMPT, new_id(), "hi")


def test_moderation_moves_pending_records_and_audits_each_decision(store):
    ada, _ = participants.join(store, "a" * 32, "Ada")
    one, two = new_id(), new_id()
    submissions.submit_story(store, ada.id, PROMPT, one, "First.")
    submissions.submit_story(store, ada.id, PROMPT, two, "Second.")
    assert [r.id for r in moderation.pending(store)] == [one, two]
    record, changed = moderation.decide(store, one, "approve", "host:test")
    assert changed and record.status == "approved" and record.author == "Ada"
    _, changed_again = moderation.decide(store, one, "approve", "host:test")
    assert not changed_again
    rejected, _ = moderation.decide(store, two, "reject", "host:test", "off topic")
    assert rejected.reason == "off topic"
    assert [r.id for r in moderation.approved(store)] == [one] and moderation.count_pending(store) == 0
    audit = store.query("SELECT actor, action, subject FROM audit WHERE action IN ('approve', 'reject') ORDER BY seq")
    assert [tuple(r) for r in audit] == [("host:test", "approve", one), ("host:test", "reject", two)]
    with pytest.raises(NotFound):
        moderation.decide(store, new_id(), "approve", "host:test")


def test_withdrawn_records_cannot_be_moderated(store):
    ada, _ = participants.join(store, "a" * 32, "Ada")
    record_id = new_id()
    submissions.submit_story(store, ada.id, PROMPT, record_id, "Mine.")
    with store.transaction() as db:
        db.execute("UPDATE records SET status = 'withdrawn' WHERE id = ?", (record_id,))
    with pytest.raises(Conflict):
        moderation.decide(store, record_id, "approve", "host:test")


def test_the_audit_log_is_append_only(store):
    with store.transaction() as db:
        Store.audit(db, "host:test", "go", "1")
    with pytest.raises(StoreError, match="append-only"):
        with store.transaction() as db:
            db.execute("UPDATE audit SET action = 'nothing'")
    with pytest.raises(StoreError, match="append-only"):
        with store.transaction() as db:
            db.execute("DELETE FROM audit")
    assert [r["action"] for r in store.query("SELECT action FROM audit")] == ["go"]


def test_a_failed_transaction_leaves_nothing_behind(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as db:
            Store.put_state(db, "x", 1)
            raise RuntimeError("boom")
    assert store.get_state("x") is None


def test_data_survives_reopening(open_test_store):
    store = open_test_store()
    ada, _ = participants.join(store, "a" * 32, "Ada")
    record_id = new_id()
    submissions.submit_story(store, ada.id, PROMPT, record_id, "Kept.")
    with store.transaction() as db:
        Store.put_state(db, "cues.playhead", "4")
    store.close()
    reopened = open_test_store()
    assert lookup.record(reopened, record_id).text == "Kept."
    assert reopened.get_state("cues.playhead") == "4"
    reopened.close()


def test_a_retry_racing_the_first_copy_stores_one_record(store, monkeypatch):
    ada, _ = participants.join(store, "a" * 32, "Ada")
    record_id = new_id()
    submissions.submit_story(store, ada.id, PROMPT, record_id, "First.")
    real_get = lookup.record
    calls = iter([None])  # the racing copy saw no record before it inserted
    monkeypatch.setattr(lookup, "record", lambda s, i: next(calls, None) or real_get(s, i))
    record, created = submissions.submit_story(store, ada.id, PROMPT, record_id, "First.")
    assert not created and record.text == "First."
    assert store.query("SELECT COUNT(*) FROM records")[0][0] == 1
    assert store.query("SELECT COUNT(*) FROM audit WHERE action = 'submit'")[0][0] == 1


def test_a_record_keeps_the_author_name_it_was_approved_with(store):
    ada, _ = participants.join(store, "a" * 32, "Ada")
    record_id = new_id()
    submissions.submit_story(store, ada.id, PROMPT, record_id, "Mine.")
    moderation.decide(store, record_id, "approve", "host:test")
    participants.join(store, "a" * 32, "Renamed After Approval")
    assert lookup.record(store, record_id).author == "Ada"
    assert moderation.approved(store)[0].author == "Ada"


def test_a_failed_commit_leaves_the_store_usable(store):
    ada, _ = participants.join(store, "a" * 32, "Ada")
    with pytest.raises(StoreError):
        with store.transaction() as db:
            if store.kind == "sqlite":  # refused at COMMIT (PostgreSQL refuses the INSERT itself)
                db.execute("PRAGMA defer_foreign_keys = ON")
            db.execute("INSERT INTO record_sources (record_id, source_id) VALUES ('nope', 'nada')")
    submissions.submit_story(store, ada.id, PROMPT, new_id(), "Still works.")
    assert store.query("SELECT COUNT(*) FROM records")[0][0] == 1


def test_the_feed_batches_comments_newest_first_and_capped_per_record(store):
    from stage.records import curation

    ada, _ = participants.join(store, "a" * 32, "Ada")
    first, second = new_id(), new_id()
    for story in (first, second):
        submissions.submit_story(store, ada.id, PROMPT, story, "A cape.")
        moderation.decide(store, story, "approve", "host:test")
    said = []
    for i in range(7):
        comment = new_id()
        submissions.submit_comment(store, ada.id, comment, first, f"comment {i}")
        moderation.decide(store, comment, "approve", "host:test")
        said.append(f"comment {i}")
    pending = new_id()
    submissions.submit_comment(store, ada.id, pending, second, "not yet")
    feed = {item["id"]: item for item in curation.feed(store, ada.id)}
    assert [c["text"] for c in feed[first]["comments"]] == said[::-1][:5]
    assert feed[second]["comments"] == [], "unmoderated comments stay out; no mixing across records"
