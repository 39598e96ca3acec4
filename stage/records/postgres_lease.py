"""The serve lock: a PostgreSQL session advisory lock (``SERVE_LOCK``) on a connection of its own, the holder.

One ``stage serve`` per database holds it, as the SQLite store holds a flock on the data directory. When
several serve processes share one database (issue 17) it is the conductor's lease: every process opens its
store, one holds the lock and runs the show, the others poll ``try_take`` and the holder checks
``still_held``. The lock lives in the session, so it goes exactly when the session does: a close, a
kill -9 of the process (its backend reads EOF at once), PostgreSQL's restart, or, on a shared database, a
machine that vanished (the server-side keepalives below end its session within ~5 s).

The loops that poll and watch are the caller's; these are the non-blocking steps they take. Each step
holds ``_lock``, so a greenlet polling never interleaves with another checking or closing on the one
connection (psycopg would serialise the statements, not a check and the reconnect that follows it).
"""

from __future__ import annotations

import logging
import threading

import psycopg

from stage.errors import StoreError
from stage.records.postgres_connection import (CONNECT_TIMEOUT_S, KEEPALIVES, connect, one_line, redacted)

log = logging.getLogger(__name__)

SERVE_LOCK = 0x53544147450002  # spells STAGE, then 2 (WRITER_LOCK in postgres_store is 1)
# Lease mode only: PostgreSQL probes an idle holder after 2 s, every 1 s, and ends the session (freeing
# the lease for a follower) after 2 unanswered probes, ~4 s after it last heard from the machine. Its
# default, the kernel's, is two hours of a show with no conductor.
# tcp_user_timeout too: keepalives are not sent while a reply is unacknowledged, so a holder whose machine
# vanished with bytes in flight would keep its lock for the kernel's retries (about 15 minutes).
SERVER_KEEPALIVES = ("SET tcp_keepalives_idle = 2; SET tcp_keepalives_interval = 1; SET tcp_keepalives_count = 2; "
                     "SET tcp_user_timeout = 4000")
# Lease mode only: the holder gives up on a send PostgreSQL's machine never acknowledges after 2 s (the
# pool's connections: 30 s). A conductor cut off from the database, checking every second, so finds its
# lease gone (~3 s) before PostgreSQL frees it for a follower (~4 s): never two conductors at once.
HOLDER_USER_TIMEOUT_MS = 2_000


class Lease:
    """``SERVE_LOCK`` on its own connection. ``shared``: lease mode (several serve processes, one conductor):
    the holder gets the keepalives above. ``held`` says whether this process holds the lock: it turns False
    when a held lock is found gone (a check, or a write after PostgreSQL restarted), which the conductor's
    watch (stage/cluster/conductor.py) acts on."""

    def __init__(self, url: str, shared: bool = False) -> None:
        """Connects the holder (a ``StoreError`` when it cannot); takes nothing yet."""
        self.url = url
        self.location = redacted(url)
        self.shared = shared
        self.held = False
        self._lock = threading.Lock()
        self._unreachable = False  # try_take logs an outage once, not every poll
        self._conn: psycopg.Connection | None = self._open()

    @property
    def conn(self) -> psycopg.Connection:
        """The holder connection (the store migrates on it at open, before anyone else can use it)."""
        if self._conn is None:
            raise StoreError(f"the serve lock's connection to {self.location} is closed", code="store_unreachable")
        return self._conn

    @property
    def reachable(self) -> bool:
        """False after ``try_take`` could not reach PostgreSQL, until it reaches it again."""
        return not self._unreachable

    @property
    def backend_pid(self) -> int | None:
        """The holder's PostgreSQL backend (``pg_stat_activity.pid``), None while it has no connection."""
        return self._conn.info.backend_pid if self._conn is not None and not self._conn.closed else None

    def take(self) -> bool:
        """Once, on the current connection: True if this process holds the lock now. psycopg's errors pass
        (at open the store turns them into "cannot open the store")."""
        with self._lock:
            return self._take()

    def try_take(self) -> bool:
        """Non-blocking, for the follower's poll: True if this process holds the lease now. A holder connection
        that died is replaced once; PostgreSQL still away is False (the next poll tries again)."""
        if self.held:  # taking it twice would stack the lock: one unlock would then not free it
            return self.still_held()
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None:
                        self._conn = self._open()
                    taken = self._take()
                except (psycopg.Error, StoreError) as exc:
                    self._drop()
                    if attempt == 2:
                        if not self._unreachable:
                            log.warning("store %s: cannot ask for the lease: %s", self.location, one_line(exc))
                        self._unreachable = True
                        return False
                    continue
                if self._unreachable:
                    log.info("store %s: reached again for the lease", self.location)
                self._unreachable = False
                if taken:
                    log.warning("store %s: this server holds the lease now", self.location)
                return taken
        raise AssertionError("unreachable")

    def still_held(self) -> bool:
        """A round trip (``SELECT 1``): True while the holder session lives, and the lock with it. A broken
        session (or any failure: when unsure, let go) loses the lease: ``held`` turns False, logged once. It is
        never taken again here: another process may hold it already."""
        with self._lock:
            if not self.held:
                return False
            try:
                self.conn.execute("SELECT 1")
                return True
            except (psycopg.Error, StoreError) as exc:
                reason = one_line(exc)
                self._drop()  # a session that somehow lives on lets the lock go with it
                self.held = False
        log.error("store %s: this server lost the lease (%s)", self.location, reason)
        return False

    def reclaim(self) -> bool:
        """Exclusive mode, after a write found PostgreSQL restarted: make sure this process still holds the lock,
        taking it again on a new session if its own went. False only when another Stage took it meanwhile
        (PostgreSQL still away: True, and the next failed write asks again)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute("SELECT 1")
                    return True  # the session survived, and with it the lock
                except psycopg.Error:
                    self._drop()
            try:
                self._conn = self._open()
                if self._take():
                    log.warning("store %s: PostgreSQL came back; this server holds the serve lock again",
                                self.location)
                    return True
            except (psycopg.Error, StoreError):
                self._drop()
                return True  # still away: the write fails as it would have
            self.held = False
            return False

    def close(self) -> None:
        """Let go at once (a restart of this server must not wait for PostgreSQL to notice the close)."""
        with self._lock:
            if self._conn is not None and self.held:
                try:
                    self._conn.execute("SELECT pg_advisory_unlock_all()")
                except psycopg.Error:
                    pass
            self._drop()
            self.held = False

    # -- with _lock held (or at open) -------------------------------------------------------------

    def _take(self) -> bool:
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (SERVE_LOCK,)).fetchone()
        self.held = bool(row[0])
        return self.held

    def _open(self) -> psycopg.Connection:
        if not self.shared:
            return connect(self.url)
        conn = _connect_shared(self.url)
        try:
            conn.execute(SERVER_KEEPALIVES)  # session settings: a reconnect sets them again
        except psycopg.Error:
            conn.close()
            raise
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None


def _connect_shared(url: str) -> psycopg.Connection:
    """``connect``'s connection and its clear words, with the holder's shorter send timeout (``connect`` fixes
    its keepalives, so it cannot be asked for another)."""
    try:
        return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True,
                               **{**KEEPALIVES, "tcp_user_timeout": HOLDER_USER_TIMEOUT_MS})
    except psycopg.ProgrammingError as exc:
        raise StoreError(f"not a PostgreSQL URL: {one_line(exc)}", code="bad_database_url") from None
    except psycopg.Error as exc:
        raise StoreError(f"cannot reach PostgreSQL at {redacted(url)}: {one_line(exc)}",
                         code="store_unreachable") from None
