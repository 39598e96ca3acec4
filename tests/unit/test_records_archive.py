"""The archive's database work in records: snapshot, scrub for export, examine for import."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from stage.errors import StoreError
from stage.records import archive, takes
from stage.records.migrations import MIGRATIONS
from stage.records.sqlite_store import SqliteStore


def night(data: Path) -> Path:
    """A data directory with one shown story, one rejected one and a started take that was never stored."""
    store = SqliteStore(data / "stage.db")
    now = time.time()
    with store.transaction() as db:
        db.execute("INSERT INTO participants (id, device_key_hash, name, consent, created_at, last_seen)"
                   " VALUES ('p-ada', 'hash-of-adas-phone', 'Ada', 1, ?, ?)", (now, now))
        for rid, status, text in (("s-shown", "approved", "A tale"), ("s-gone", "rejected", "secret rejected tale")):
            db.execute("INSERT INTO records (id, kind, status, participant_id, author_name, text, created_at,"
                       " updated_at) VALUES (?, 'story', ?, 'p-ada', 'Ada', ?, ?, ?)", (rid, status, text, now, now))
    takes.start(store, "t-1", "stage", "5", {"take": 1, "performer": "Ada", "story_id": None}, "test")
    store.close()
    return data


def test_scrub_deletes_withheld_records_and_private_data_down_to_the_file_bytes(tmp_path):
    copy = tmp_path / "copy.db"
    snapshot = archive.Snapshot(night(tmp_path / "data"), copy_to=copy)
    try:
        assert archive.scrub_for_export(snapshot) == ["s-gone"]
        assert [r["id"] for r in archive.records_for_export(snapshot)] == ["s-shown"]
        assert [r["device_key_hash"] for r in snapshot.query("SELECT device_key_hash FROM participants")] \
            == ["archived:p-ada"]
        assert snapshot.query("SELECT key FROM state WHERE key LIKE 'take.started.%'") == []
    finally:
        snapshot.close()
    raw = copy.read_bytes()
    assert b"secret rejected tale" not in raw and b"hash-of-adas-phone" not in raw  # vacuumed out of free pages


def test_scrub_keeping_withheld_still_forgets_the_phones(tmp_path):
    snapshot = archive.Snapshot(night(tmp_path / "data"))
    try:
        assert archive.scrub_for_export(snapshot, keep_withheld=True) == []
        assert {r["id"] for r in archive.records_for_export(snapshot)} == {"s-shown", "s-gone"}
        assert snapshot.query("SELECT device_key_hash FROM participants")[0][0] == "archived:p-ada"
    finally:
        snapshot.close()


def test_a_directory_without_a_night_is_a_snapshot_error(tmp_path):
    with pytest.raises(archive.SnapshotError, match="holds no Stage data"):
        archive.Snapshot(tmp_path)


def test_examine_reads_a_stage_file_and_refuses_garbage(tmp_path):
    facts = archive.examine(night(tmp_path / "data") / "stage.db")
    assert facts.integrity == ["ok"] and facts.version == len(MIGRATIONS)
    assert facts.schema == archive.schema_at(len(MIGRATIONS)) and facts.schema
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all " * 100)
    with pytest.raises(StoreError) as refused:
        archive.examine(garbage)
    assert refused.value.code == "bad_database" and "not a database" in refused.value.message
    assert garbage.read_bytes() == b"not a database at all " * 100  # read-only: never changed
