"""Group commit: every transaction returns only after an fsync of the WAL that covers it, and writers
that commit together share fsyncs. Real threads, a real SQLite file, a real fsync."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from stage.records.store import Store


def test_a_lone_commit_is_synced_before_it_returns(tmp_path: Path):
    store = Store(tmp_path / "stage.db")
    try:
        before = store.fsyncs
        with store.transaction() as db:
            db.execute("INSERT INTO state (key, value) VALUES ('k', '1')")
        assert store.fsyncs == before + 1, "one commit, one fsync, before transaction() returned"
    finally:
        store.close()


def test_concurrent_writers_share_fsyncs_and_every_commit_survives(tmp_path: Path):
    path = tmp_path / "stage.db"
    store = Store(path)
    writers, each = 8, 40
    start = threading.Barrier(writers)
    returned: list[str] = []

    def write(n: int) -> None:
        start.wait()
        for i in range(each):
            with store.transaction() as db:
                db.execute("INSERT INTO state (key, value) VALUES (?, '1')", (f"w{n}-{i}",))
            returned.append(f"w{n}-{i}")  # an ack would go out here

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    fsyncs_before = store.fsyncs
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fsyncs = store.fsyncs - fsyncs_before
    store.close()
    assert len(returned) == writers * each
    assert 0 < fsyncs < writers * each, f"{fsyncs} fsyncs for {writers * each} commits: none shared"
    with sqlite3.connect(path) as db:  # a fresh connection (after close) sees every returned commit
        keys = {row[0] for row in db.execute("SELECT key FROM state WHERE key LIKE 'w%'")}
    assert keys == set(returned)
