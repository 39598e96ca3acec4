"""The PostgreSQL store's connection layer: sqlite3-style SQL and rows over psycopg, connecting with a clear
word when it cannot, and what a failed statement may tell a phone. ``postgres_store`` builds the store on it;
``transfer`` and ``diagnosis`` connect through it without a store."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from stage.errors import StoreError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5
# A database host that vanished (power, network): TCP notices in 30 s instead of the kernel's ~2 hours,
# for the pool's connections (a query in flight) and the serve lock's (whose session then ends).
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
              "tcp_user_timeout": 30_000}
_LITERAL = re.compile(r"('(?:[^']|'')*')")

class Row(tuple):
    """A row that reads by column name and by index, and ``dict(row)``s, like ``sqlite3.Row``."""

    _index: dict[str, int]

    def __new__(cls, values: Any, index: dict[str, int]) -> "Row":
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def row_factory(cursor: Any) -> Any:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: Row(values, index)


@lru_cache(maxsize=2048)
def pyformat(sql: str) -> str:
    """Stage's ``?`` placeholders in psycopg's words: ``%s`` outside string literals, every ``%`` doubled.
    What Stage's SQL therefore does not use: a ``?`` or an apostrophe in an SQL comment or a quoted
    identifier, and sqlite3's ``:name`` placeholders (a test in test_postgres_store.py pins the rules)."""
    parts = _LITERAL.split(sql.replace("%", "%%"))
    return "".join(part if i % 2 else part.replace("?", "%s") for i, part in enumerate(parts))


class PgConnection:
    """A psycopg connection that takes sqlite3-style SQL (what a transaction hands its caller).

    Round trips are what a write waits on here: under a busy event loop each one waits a turn of the loop.
    (Measured: fewer of them did not move B1's ack p99 or the server's CPU on this 2-core machine, where
    PostgreSQL shares a core; docs/benchmarks.md, 2026-12-02. Kept: less waiting, no less promised.) Statements whose
    result nobody reads wait in ``queued`` and go out with the next one that is read, in one psycopg
    pipeline (one round trip); the transaction's opening statements are queued the same way, and the store
    sends what is left with its commit. A stored story is two round trips so, where it was five.
    """

    def __init__(self, conn: psycopg.Connection, queued: list[tuple[str, Any]] | None = None,
                 reconnect: Callable[[psycopg.Connection], psycopg.Connection] | None = None) -> None:
        """``reconnect``: given the connection that turned out dropped on the very first round trip (nothing
        was written on it: PostgreSQL restarted while it idled in the pool), a fresh one to send it all again."""
        self.raw = conn
        self.queued: list[tuple[str, Any]] = list(queued or ())  # psycopg SQL and its parameters
        self._reconnect = reconnect
        self._sent = False

    def execute(self, sql: str, params: tuple | dict = ()) -> Any:
        return self.send(pyformat(sql), params if params is not None else ())

    def execute_later(self, sql: str, params: tuple | dict = ()) -> None:
        """A statement whose result nobody reads: sent with the next statement or the commit. Its error, if
        any, is raised there (so nothing that catches one statement's error may use this)."""
        self.queued.append((pyformat(sql), params if params is not None else ()))

    def executemany(self, sql: str, rows: Any) -> None:
        # Queued as single statements: psycopg runs even an empty executemany as a pipeline of its own.
        for row in rows:
            self.execute_later(sql, row)

    def send(self, sql: str | None = None, params: Any = ()) -> Any:
        """The queued statements and then ``sql`` (psycopg's words) in one round trip; ``sql``'s cursor."""
        queued, self.queued = self.queued, []
        first, self._sent = not self._sent, True
        try:
            return self._send(queued, sql, params)
        except psycopg.OperationalError:
            if not (first and self.raw.broken and self._reconnect is not None):
                raise
        self.raw = self._reconnect(self.raw)
        return self._send(queued, sql, params)

    def _send(self, queued: list[tuple[str, Any]], sql: str | None, params: Any) -> Any:
        if not queued:
            return self.raw.execute(sql, params) if sql is not None else None
        cursor = None
        with self.raw.pipeline():
            for text, values in queued:
                self.raw.execute(text, values)
            if sql is not None:
                cursor = self.raw.execute(sql, params)
        return cursor


def redacted(url: str) -> str:
    """The URL without its password, for logs, errors and the banner."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unreadable URL)"
    host, port, db = params.get("host", "localhost"), params.get("port", "5432"), params.get("dbname", "")
    user = f"{params['user']}@" if params.get("user") else ""
    return f"postgresql://{user}{host}:{port}/{db}"


def one_line(exc: BaseException) -> str:
    """psycopg's message on one line (a failed connect lists every attempt on lines of its own)."""
    return "; ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip()) or type(exc).__name__


def connect(url: str, **kwargs: Any) -> psycopg.Connection:
    """One connection, or a ``StoreError`` that says why not (unreachable, refused credentials, no database)."""
    try:
        return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True, **KEEPALIVES, **kwargs)
    except psycopg.ProgrammingError as exc:  # not a URL psycopg can read
        raise StoreError(f"not a PostgreSQL URL: {one_line(exc)}", code="bad_database_url") from None
    except psycopg.Error as exc:
        raise StoreError(f"cannot reach PostgreSQL at {redacted(url)}: {one_line(exc)}",
                         code="store_unreachable") from None


def schema_version(conn: psycopg.Connection) -> int:
    """The Stage schema version of a database (0 when Stage never migrated it)."""
    exists = conn.execute("SELECT to_regclass('stage_schema') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    row = conn.execute("SELECT version FROM stage_schema").fetchone()
    return row[0] if row else 0

def primary(exc: BaseException) -> str:
    """What PostgreSQL said, without its DETAIL (key values, ids): the part a phone's error ack may carry."""
    diag = getattr(exc, "diag", None)
    return (diag.message_primary if diag is not None and diag.message_primary else None) or one_line(exc)


def rollback_what_can_be(conn: psycopg.Connection) -> None:
    """Roll back what can be: a connection still busy with a query (a greenlet killed mid-query) or broken
    is left to the pool, which closes it; the exception that got us here is the one that counts."""
    if conn.broken or conn.closed:
        return
    if conn.pgconn.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error as exc:
            log.debug("rollback failed, the pool drops the connection: %s", exc)
