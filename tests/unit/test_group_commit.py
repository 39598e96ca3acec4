"""Group commit: every transaction returns only after an fsync of the WAL that covers it, and writers
that commit together share fsyncs. Real threads, a real SQLite file, a real fsync."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from stage.records.sqlite_store import SqliteStore as Store


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


SLOW_DISK_UNDER_GEVENT = r"""
import sys
from gevent import monkey
monkey.patch_all()
import os, time, gevent
from pathlib import Path
from stage.records.sqlite_store import SqliteStore as Store
from stage.server import native_runner

block = monkey.get_original("time", "sleep")  # blocks the OS thread it runs on, like a slow disk
real_fsync = os.fsync
def slow_fsync(fd):
    block(0.4)
    real_fsync(fd)
os.fsync = slow_fsync

store = Store(Path(sys.argv[1]) / "stage.db", **({"native": native_runner("gevent")} if sys.argv[2] == "native" else {}))
ticks = []
def tick():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.01)
ticker = gevent.spawn(tick)
gevent.sleep(0.05)
before = len(ticks)
with store.transaction() as db:
    db.execute("INSERT INTO state (key, value) VALUES ('k', '1')")
during = len(ticks) - before
ticker.kill()
store.close()
print(during)
"""


def _ticks_during_a_slow_fsync(tmp_path: Path, how: str) -> int:
    import subprocess
    import sys

    data = tmp_path / how
    data.mkdir()
    done = subprocess.run([sys.executable, "-c", SLOW_DISK_UNDER_GEVENT, str(data), how], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_the_server_s_fsync_runs_off_the_event_loop(tmp_path: Path):
    """A 0.4 s fsync (a slow disk) must not stop the gevent hub: other greenlets (every other phone)
    keep running while the writer waits. The store without the server's runner shows the difference."""
    native = _ticks_during_a_slow_fsync(tmp_path, "native")
    inline = _ticks_during_a_slow_fsync(tmp_path, "inline")
    assert inline <= 2, f"the inline fsync should stop the hub, yet the ticker ran {inline} times"
    assert native >= 10, f"the hub ticked only {native} times in a 0.4 s fsync on a native thread"
