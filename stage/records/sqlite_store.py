"""The SQLite store (WAL) in the data directory: the embedded default. The server process is its only writer.

Every write happens inside :meth:`Store.transaction`; callers ack a client only after it returns,
so an ack always means "committed and on disk".

Group commit: each transaction commits with ``synchronous=NORMAL`` (the WAL is written, not synced),
then waits for an fsync of the WAL that covers its commit. One fsync covers every commit made while
the previous one ran or while its caller yielded, so under load there is one fsync per batch instead
of one per record. That is the durability of ``synchronous=FULL`` (an fsync of the WAL after the
commit frame) at a fraction of the fsyncs: with FULL each fsync stopped the gevent hub, and it was
the largest share of the server's time under load (docs/benchmarks.md).

The fsync itself runs through ``native``: the server passes a runner that puts it on a real OS thread
(gevent's or eventlet's thread pool), so while the disk syncs only the writers waiting for it wait, and
every other phone is served. Without one (tools, tests) it runs on the calling thread.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stage.errors import StoreError
from stage.records.migrations import MIGRATIONS
from stage.records.store import NativeRunner, Store, _call

log = logging.getLogger(__name__)


class SqliteConnection(sqlite3.Connection):
    """sqlite3's connection with the store API's ``execute_later``: at once here, nothing is saved by waiting."""

    def execute_later(self, sql: str, params: tuple | dict = ()) -> None:
        self.execute(sql, params)


class SqliteStore(Store):
    kind = "sqlite"

    def __init__(self, path: Path, native: NativeRunner = _call) -> None:
        self.path = path
        self.location = str(path)
        self._native = native  # runs a blocking call (the fsync) off the event loop
        path.parent.mkdir(parents=True, exist_ok=True)
        # Two servers on one data directory would mean two playheads and two writers: refuse.
        self._lockfile = open(path.with_suffix(".lock"), "w")
        try:
            fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lockfile.close()
            raise StoreError(f"another Stage is already using {path.parent}") from None
        # One connection, serialised by a lock (green under gevent/eventlet after monkey-patching).
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, factory=SqliteConnection)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        # An ack promises the record survives a power cut, not only a crash: NORMAL plus our own
        # fsync of the WAL after each commit (grouped, see _durable) keeps that promise.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._wal = Path(f"{path}-wal")
        self._committed = 0  # commits so far
        self._synced = 0  # commits an fsync of the WAL has covered
        self._syncing = False
        self._dir_synced = False
        self.fsyncs = 0  # how many fsyncs the commits took (fewer than commits under load)
        self._sync_done = threading.Condition()  # green after monkey-patching, like the lock
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(f"{self.path} was written by a newer Stage (schema {version}); upgrade Stage")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._lock:
                self._db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={number};\nCOMMIT;")
            log.info("store %s migrated to schema %d", self.path, number)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Returns once the commit is on disk (after an fsync of the WAL that covers it)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
                self._committed += 1
                mine = self._committed
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"the store could not save: {exc}") from exc
                raise
        self._durable(mine)

    def _durable(self, mine: int) -> None:
        """Wait until an fsync of the WAL covers commit number ``mine``; do that fsync if nobody is."""
        with self._sync_done:
            while self._synced < mine:
                if not self._syncing:
                    self._syncing = True
                    break
                self._sync_done.wait()
            else:
                return
        synced_up_to = None
        try:
            time.sleep(0)  # let writers that are ready commit first: this fsync then covers them too
            target = self._committed
            self._native(self._fsync_wal)
            synced_up_to = target
        except OSError as exc:
            raise StoreError(f"the store could not save: {exc}") from exc
        finally:
            with self._sync_done:
                self._syncing = False
                if synced_up_to is not None:
                    self._synced = max(self._synced, synced_up_to)
                self._sync_done.notify_all()

    def _fsync_wal(self) -> None:
        try:
            fd = os.open(self._wal, os.O_RDONLY)
        except FileNotFoundError:  # checkpointed and removed: the database file itself was synced
            return
        try:
            os.fsync(fd)
            self.fsyncs += 1
        finally:
            os.close(fd)
        if not self._dir_synced:  # the WAL's directory entry, once, so a new WAL file is found after a power cut
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            self._dir_synced = True

    def schema_version(self) -> int:
        with self._lock:
            return self._db.execute("PRAGMA user_version").fetchone()[0]

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._lockfile.close()
