"""Moving a night between backends (stage/records/transfer.py): every table goes, parents first, and a
night SQLite let keep a dangling key is refused by name before anything reaches PostgreSQL."""

from __future__ import annotations

import sqlite3
import time

import pytest

from stage.errors import StoreError
from stage.records import archive
from stage.records.postgres_store import PostgresStore
from stage.records.sqlite_store import SqliteStore
from stage.records.transfer import TABLES, postgres_to_sqlite, sqlite_to_postgres


def test_every_table_goes_across_and_parents_come_before_children(tmp_path):
    store = SqliteStore(tmp_path / "stage.db")
    try:
        tables = {r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'"
                                                 " AND name NOT LIKE 'sqlite_%'")}
        assert set(TABLES) == tables, "a table a migration added must be moved too"
        for index, table in enumerate(TABLES):
            parents = {r["table"] for r in store.query(f"PRAGMA foreign_key_list({table})")} - {table}
            assert parents <= set(TABLES[:index]), f"{table} comes before {parents - set(TABLES[:index])}"
    finally:
        store.close()


def test_a_dangling_key_is_refused_by_name_and_nothing_reaches_postgresql(tmp_path, postgres):
    path = tmp_path / "stage.db"
    SqliteStore(path).close()
    now = time.time()
    with sqlite3.connect(path) as db:  # foreign keys off, as an old export's scrub left one
        db.execute("INSERT INTO records (id, kind, status, crew_author, created_at, updated_at)"
                   " VALUES ('t1', 'take', 'approved', 'crew', ?, ?)", (now, now))
        db.execute("INSERT INTO takes (record_id, rig, story_id, number, created_at) VALUES ('t1', 'stage', 'gone', 1, ?)",
                   (now,))
    url = postgres.fresh_database()
    store = PostgresStore(url)
    try:
        with sqlite3.connect(path) as source, pytest.raises(StoreError, match="takes point at records"):
            sqlite_to_postgres(source, store)
        assert store.query("SELECT COUNT(*) FROM records")[0][0] == 0
    finally:
        store.close()
        postgres.drop(url)


def test_the_export_scrub_leaves_no_dangling_key(tmp_path):
    """A take of a story that is withheld stays (it is the crew's), without its link to the story."""
    data = tmp_path / "data"
    store = SqliteStore(data / "stage.db")
    now = time.time()
    with store.transaction() as db:
        db.execute("INSERT INTO participants (id, device_key_hash, name, created_at, last_seen)"
                   " VALUES ('p', 'h', 'Ada', ?, ?)", (now, now))
        db.execute("INSERT INTO records (id, kind, status, participant_id, text, created_at, updated_at)"
                   " VALUES ('s', 'story', 'rejected', 'p', 'No.', ?, ?)", (now, now))
        db.execute("INSERT INTO records (id, kind, status, crew_author, created_at, updated_at)"
                   " VALUES ('t', 'take', 'approved', 'crew', ?, ?)", (now, now))
        db.execute("INSERT INTO takes (record_id, rig, story_id, number, created_at) VALUES ('t', 'stage', 's', 1, ?)",
                   (now,))
    store.close()
    snapshot = archive.Snapshot(data)
    try:
        assert archive.scrub_for_export(snapshot) == ["s"]
        assert snapshot.db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert snapshot.query("SELECT record_id, story_id FROM takes")[0][:] == ("t", None)
    finally:
        snapshot.close()


def test_the_autoincrement_counters_survive_a_trip_through_postgresql(tmp_path, postgres):
    path = tmp_path / "stage.db"
    store = SqliteStore(path)
    with store.transaction() as db:
        for n in range(3):
            SqliteStore.audit(db, "host", "go", str(n))
    store.close()
    url = postgres.fresh_database()
    pg = PostgresStore(url)
    try:
        with sqlite3.connect(path) as source:
            sqlite_to_postgres(source, pg)
        with pg.transaction() as db:
            PostgresStore.audit(db, "host", "go", "next")
        assert [r["seq"] for r in pg.query("SELECT seq FROM audit ORDER BY seq")] == [1, 2, 3, 4]
    finally:
        pg.close()
    back = sqlite3.connect(":memory:")
    try:
        postgres_to_sqlite(url, back)
        assert back.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()[0] == 4
    finally:
        back.close()
        postgres.drop(url)
