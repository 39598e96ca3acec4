"""The store: every record, participant, lineage link, take, audit entry and piece of resumable state.

Two backends, one API (issue 16):

- :class:`~stage.records.sqlite_store.SqliteStore`, one SQLite file in the data directory, held by one
  process (the embedded default: ``stage serve`` needs no database server);
- :class:`~stage.records.postgres_store.PostgresStore`, a PostgreSQL database that several processes and
  machines can share, for a night that outgrows one process.

:func:`open_store` picks one from ``--database`` (no URL: the SQLite file). Code above the store writes
portable SQL with ``?`` placeholders; both backends give rows that read by column name and by index.

The promises are the same on both: every write happens inside :meth:`Store.transaction`, which returns
only once the commit is durable, so an ack always means "committed and on disk"; writers are serialised
(SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's transaction advisory lock), so a read-then-write inside one
transaction sees every earlier commit, from any process; the audit log is append-only (a trigger).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Callable, Protocol, TypeVar

T = TypeVar("T")
NativeRunner = Callable[[Callable[[], T]], T]
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What a transaction hands its caller: sqlite3's connection, or the PostgreSQL one that speaks like it."""

    def execute(self, sql: str, params: tuple | dict = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Any) -> Any: ...
    # A write whose result nobody reads (an audit entry): PostgreSQL sends it with the next statement or
    # the commit, a round trip fewer; SQLite runs it at once. Its error is raised there, not here.
    def execute_later(self, sql: str, params: tuple | dict = ()) -> None: ...


def _call(fn: Callable[[], T]) -> T:
    return fn()


class Store:
    """What both backends offer. ``kind`` is ``sqlite`` or ``postgresql``; ``location`` is the file or the
    URL with its password left out (for logs, the banner and ``stage doctor``)."""

    kind: str
    location: str

    def transaction(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def query(self, sql: str, params: tuple | dict = ()) -> list[Any]:
        raise NotImplementedError

    def schema_version(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- audit log and resumable state --------------------------------------------------------

    @staticmethod
    def audit(db: Connection, actor: str, action: str, subject: str | None = None, **detail: Any) -> None:
        """Append to the audit log inside the caller's transaction."""
        db.execute_later(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            (time.time(), actor, action, subject, json.dumps(detail, ensure_ascii=False) if detail else None),
        )

    def get_state(self, key: str, default: Any = None) -> Any:
        rows = self.query("SELECT value FROM state WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    @staticmethod
    def put_state(db: Connection, key: str, value: Any) -> None:
        db.execute_later(
            "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, ensure_ascii=False)),
        )


def is_postgres_url(database: str | None) -> bool:
    return bool(database) and database.startswith(POSTGRES_SCHEMES)


def open_store(database: str | None, data_dir: Path, native: NativeRunner = _call, lease: bool = False) -> Store:
    """The store for ``--database``: none means the SQLite file ``stage.db`` in ``data_dir``.

    ``native`` runs a blocking call off the event loop (the SQLite store's fsync); PostgreSQL's driver
    waits on its socket cooperatively and needs none. ``lease``: one of several serve processes on one
    PostgreSQL database, its serve lock the conductor's lease (``PostgresStore``'s ``lease``); SQLite
    ignores it (its flock refuses a second process anyway). Raises ``StoreError`` with one clear sentence
    when the store cannot be opened (unreachable, refused credentials, written by a newer Stage, in use).
    """
    from stage.errors import StoreError

    if not database:
        from stage.records.sqlite_store import SqliteStore

        return SqliteStore(Path(data_dir) / "stage.db", native=native)
    if is_postgres_url(database):
        from stage.records.postgres_store import PostgresStore

        return PostgresStore(database, lease=lease)
    raise StoreError("--database must be a postgresql:// URL (or nothing, for SQLite in the data directory)",
                     code="bad_database_url")  # the value is not echoed: it may hold a password
