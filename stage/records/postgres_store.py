"""The PostgreSQL store: the SQLite store's API and promises on a database many processes can share.

Driver: psycopg 3 with psycopg-pool, beside the sqlite3 code rather than under one abstraction (issue 16
asked which, and why): Stage's SQL is portable as written but for placeholders, so a thin connection that
speaks like sqlite3's keeps every records module unchanged, where SQLAlchemy Core would rewrite each
query and row access for no gain in what the store promises. psycopg waits on its socket through
``select``, which gevent's monkey-patching makes cooperative (psycopg detects it; a query never stops the
hub). Under eventlet psycopg cannot tell, so ``stage/__main__.py`` picks its ``wait_select``, whose
``select`` eventlet has patched (and which, green, has no 1,024-descriptor limit).

The promises, as on SQLite:

- **Durable acks, committed in groups.** ``transaction()`` returns after PostgreSQL flushed the commit
  to its WAL, as the SQLite store returns after an fsync that covers it, and for the same reason: the
  flush must not be paid by the next writer. Each write transaction commits with ``synchronous_commit
  = off`` (visible at once, the writer lock let go), then the same connection runs a tiny synchronous
  commit of its own (a counter in ``stage_flush``, one row per backend), which returns only when the WAL
  is flushed past both: a flush that covers every commit made while it ran. Every other statement runs
  with ``synchronous_commit = on``, whatever the server's default. Holding the lock through each flush
  instead put every writer behind the previous one's flush: B2's ack p99 was 344 ms against SQLite's
  25 ms (docs/benchmarks.md).
- **Writers in one line.** Each write transaction first takes one transaction-level advisory lock
  (``WRITER_LOCK``), so writers run one at a time across every process, as SQLite's ``BEGIN IMMEDIATE``
  makes them: a read-then-write (a phone joining) sees every earlier commit, and two
  processes storing the same client-made id store one record (``ON CONFLICT DO NOTHING`` then finds it).
  Reads take no lock and run side by side on the pool's connections.
- **One server per database, or one conductor.** The server holds a session advisory lock (``SERVE_LOCK``,
  postgres_lease.py) on a connection of its own, as the SQLite store holds a flock on the data directory:
  a second ``stage serve`` (two playheads) is refused. PostgreSQL restarted, the lock went with its
  session: the first write that finds its connection dropped takes it again, and if another Stage took it
  meanwhile this server refuses every write (two playheads must never both write). In lease mode
  (``lease=True``: several serve processes on one database, issue 17) the lock is the conductor's lease
  instead: opening never refuses, it tries once (``store.lease.held``); the caller polls and watches it
  with ``Lease.try_take`` and ``Lease.still_held``. Every process writes (``WRITER_LOCK`` lines them up),
  so the store refuses nothing for the lease: a conductor that lost it is stopped by its own watch
  (stage/cluster/conductor.py); a failed write marks the lease not held, which that watch sees. One lock
  in both modes: an exclusive server is refused next to a lease holder, and a lease-mode process next to
  one is a follower.
- **Faults in one sentence.** Unreachable, refused credentials, a database written by a newer Stage: a
  ``StoreError`` at start. A write that fails mid-night (PostgreSQL restarted, disk full) raises
  ``StoreError`` (an error ack, never a false ok). A pooled connection that PostgreSQL dropped (a restart)
  fails on its first statement, before anything was written, and is replaced once on the spot, so the
  server reconnects by itself once PostgreSQL is back. (Checking each connection before lending it,
  psycopg-pool's ``check``, would do the same at one more round trip per query: 20 instead of 15 socket
  waits per stored story, measured with cProfile.)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from stage.errors import StoreError
from stage.records.postgres_connection import (CONNECT_TIMEOUT_S, KEEPALIVES, PgConnection, Row, rollback_what_can_be,
                                               row_factory, one_line, primary, pyformat, redacted, schema_version)
from stage.records.postgres_lease import Lease
from stage.records.postgres_migrations import POSTGRES_MIGRATIONS
from stage.records.store import Store

log = logging.getLogger(__name__)
# The pool logs every failed reconnect attempt on two lines while PostgreSQL is down; the operator gets
# one line per refused write from the event handlers instead (and the pool's errors still show).
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

# Advisory lock key (any bigint; this spells STAGE, then 1; SERVE_LOCK, 2, is postgres_lease's).
WRITER_LOCK = 0x53544147450001
POOL_SIZE = 8  # reads run side by side; writers queue on WRITER_LOCK anyway
# A store that stops answering must turn into an error ack, not a phone waiting forever.
STATEMENT_TIMEOUT_MS = 15_000
POOL_WAIT_S = 5  # PostgreSQL down: a write is refused after this long (the phone's outbox retries it)
# A write transaction opens with these, sent with its first statement (PgConnection queues them).
OPENING = [("BEGIN", ()), ("SET LOCAL synchronous_commit = off", ()),
           ("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))]
# And closes with these, sent with whatever it left queued: COMMIT, then a write of its own, committed
# synchronously: PostgreSQL flushes a commit only when its transaction wrote WAL (an xid alone,
# txid_current(), commits asynchronously anyway). One row per backend: flushes of different connections
# never wait on each other's row lock, and PostgreSQL groups their WAL flushes.
CLOSING = [("COMMIT", ()), ("BEGIN", ()),
           ("INSERT INTO stage_flush (backend, n) VALUES (pg_backend_pid(), 1)"
            " ON CONFLICT (backend) DO UPDATE SET n = stage_flush.n + 1", ()), ("COMMIT", ())]


def _configure(conn: psycopg.Connection) -> None:
    conn.execute("SET synchronous_commit = on")  # an ack means flushed, whatever the server's default
    conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")


class PostgresStore(Store):
    kind = "postgresql"

    def __init__(self, url: str, pool_size: int = POOL_SIZE, exclusive: bool = True, lease: bool = False) -> None:
        """``exclusive``: hold ``SERVE_LOCK`` or refuse to open (a server, an import); False is for tests of
        concurrent writers. ``lease``: several serve processes on this database; ``SERVE_LOCK`` is the
        conductor's lease, tried once here (``self.lease.held``), never a reason to refuse (``exclusive`` unread)."""
        self.url = url
        self.location = redacted(url)
        self._exclusive = exclusive and not lease
        self._lost = False  # exclusive: the serve lock went to another Stage while PostgreSQL was away: write no more
        # This process's writers wait their turn here, holding no pooled connection, so readers always
        # find one free (WRITER_LOCK then lines up the processes).
        self._turn = threading.Lock()
        self._local = threading.local()  # the transaction a greenlet is in: its queries read its own writes
        # The serve lock's connection, opened first: an unreachable database or refused login ends here.
        self.lease = Lease(url, shared=lease)
        try:
            taken = self.lease.take() if lease or exclusive else False
            if self._exclusive and not taken:
                raise StoreError(f"another Stage is already using {self.location}")
            _configure(self.lease.conn)
            self._migrate()
            self._pool = ConnectionPool(
                make_conninfo(url, connect_timeout=CONNECT_TIMEOUT_S, **KEEPALIVES), min_size=min(2, pool_size),
                max_size=pool_size, open=False, name="stage", timeout=POOL_WAIT_S,
                kwargs={"autocommit": True, "row_factory": row_factory}, configure=_configure)
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
        except BaseException as exc:
            self.lease.close()
            if isinstance(exc, (psycopg.Error, PoolTimeout)):  # no CREATE on schema public, a read-only replica, ...
                raise StoreError(f"cannot open the store at {self.location}: {one_line(exc)}",
                                 code="store_unreachable") from None
            raise
        log.info("store is PostgreSQL %s (schema %d)%s", self.location, len(POSTGRES_MIGRATIONS),
                 "" if not lease else " conducting" if taken else " following")

    def _migrate(self) -> None:
        """One migration per transaction, each re-reading the version under the writer lock (two Stages
        starting on one new database migrate it once)."""
        conn = self.lease.conn
        while True:
            with conn.transaction():  # PostgreSQL's DDL is transactional: a migration lands whole or not at all
                conn.execute("SET LOCAL statement_timeout = 0")  # a big night's migration may take a while
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))
                conn.execute("CREATE TABLE IF NOT EXISTS stage_schema (version INTEGER NOT NULL)")
                # The store's own, not the night's (never exported): see CLOSING.
                conn.execute("CREATE TABLE IF NOT EXISTS stage_flush (backend INTEGER PRIMARY KEY, n BIGINT NOT NULL)")
                version = schema_version(conn)
                if version > len(POSTGRES_MIGRATIONS):
                    raise StoreError(f"{self.location} was written by a newer Stage (schema {version}); "
                                     "upgrade Stage")
                if version == len(POSTGRES_MIGRATIONS):
                    return
                if not conn.execute("SELECT 1 FROM stage_schema").fetchone():
                    conn.execute("INSERT INTO stage_schema (version) VALUES (0)")
                conn.execute(POSTGRES_MIGRATIONS[version])
                conn.execute("UPDATE stage_schema SET version = %s", (version + 1,))
            log.info("store %s migrated to schema %d", self.location, version + 1)

    def _after_a_restart(self) -> None:
        """A pooled connection turned out dropped: PostgreSQL restarted (or the network broke). Drop every
        other dead one now, not one request at a time, and see whether the serve lock survived."""
        self._pool.check()
        if self.lease.shared:
            # A conductor's session went with the restart: held turns False, and its watch stops it. A
            # follower takes nothing here: its poll does, and the writes go on in every process either way.
            self.lease.still_held()
        elif self._exclusive and not self.lease.reclaim():
            self._lost = True
            log.error("store %s: another Stage took the database while PostgreSQL was away; this server "
                      "writes nothing more (stop it)", self.location)

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """Returns once the commit is flushed; writers hold ``WRITER_LOCK`` until their commit, not their flush.
        Round trips: the opening goes with the first statement, what is left queued with the commit."""
        if getattr(self._local, "conn", None) is not None:
            raise RuntimeError("a store transaction inside another one")
        if self._lost:
            raise StoreError("another Stage serves this database now; this server cannot save")
        self._turn.acquire()
        turn = True
        conn: PgConnection | None = None
        try:
            conn = PgConnection(self._pool.getconn(), OPENING, reconnect=self._fresh)
            self._local.conn = conn
            try:
                yield conn
            except BaseException:
                rollback_what_can_be(conn.raw)
                raise
            finally:
                self._local.conn = None
                # The next writer of this process may take a connection now: its opening waits on
                # WRITER_LOCK in PostgreSQL until the COMMIT below, so the two overlap by a round trip.
                self._turn.release()
                turn = False
            if self._lost:  # another greenlet found the serve lock gone while this one wrote
                rollback_what_can_be(conn.raw)
                raise StoreError("another Stage serves this database now; this server cannot save")
            if conn.queued != OPENING:  # nothing sent and nothing queued: nothing to commit
                conn.queued += CLOSING
                try:
                    conn.send()  # returns when the WAL is flushed past this commit (and past others)
                except psycopg.Error:  # a queued statement failed (an audit entry refused): nothing of it stays
                    rollback_what_can_be(conn.raw)
                    raise
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"the store could not save: {primary(exc)}") from exc
        finally:
            if turn:
                self._turn.release()
            if conn is not None:
                self._pool.putconn(conn.raw)

    def _fresh(self, dropped: psycopg.Connection) -> psycopg.Connection:
        """A pooled connection PostgreSQL dropped while it idled (a restart) failed on the transaction's first
        round trip, before anything was written: drop every dead one and go on with a live one."""
        self._after_a_restart()
        if self._lost:
            raise StoreError("another Stage serves this database now; this server cannot save")
        fresh = self._pool.getconn()
        self._pool.putconn(dropped)  # broken: the pool closes it (kept till now: transaction() returns it if we fail)
        return fresh

    def query(self, sql: str, params: tuple | dict = ()) -> list[Row]:
        mine = getattr(self._local, "conn", None)
        if mine is not None:
            return mine.execute(sql, params).fetchall()
        try:
            for attempt in (1, 2):
                with self._pool.connection() as conn:
                    try:
                        return conn.execute(pyformat(sql), params if params is not None else ()).fetchall()
                    except psycopg.OperationalError:
                        if attempt == 1 and conn.broken:  # dropped while idle (a restart): once more, on a new one
                            self._after_a_restart()
                            continue
                        raise
            raise AssertionError("unreachable")
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"the store could not read: {primary(exc)}") from exc

    def schema_version(self) -> int:
        with self._pool.connection() as conn:
            return schema_version(conn)

    def close(self) -> None:
        self._pool.close()
        self.lease.close()
