"""Moving a night between backends, table by table: PostgreSQL into a SQLite file, and a SQLite file into PostgreSQL.

An archive always carries a SQLite file (``data/stage.db``), whichever backend the night ran on, so
``stage export`` from PostgreSQL first copies the database into a SQLite file made by SQLite's own
migrations at the same schema version, and ``stage import`` into PostgreSQL copies the archive's
checked file in. Every column of every table goes across as it is, in the order it was written
(``rowid``; PostgreSQL's ``record_sources`` carries one), so the night comes back exactly.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from stage.errors import StoreError
from stage.records.migrations import MIGRATIONS
from stage.records.postgres_connection import PgConnection, connect, redacted, schema_version
from stage.records.postgres_store import PostgresStore

# Parents before children (foreign keys); tests/unit/test_transfer.py checks this lists every table.
TABLES = ("participants", "records", "record_sources", "audit", "state", "recommendations", "volunteers", "takes",
          "console_sessions")
# PostgreSQL's identity columns, moved past the numbers a night brings in; the first two are SQLite's
# AUTOINCREMENT ones, whose counter (``sqlite_sequence``, never lower than a deleted row's number) goes
# across too, so a night moved there and back numbers its next row as it would have.
IDENTITIES = (("audit", "seq"), ("volunteers", "id"), ("record_sources", "rowid"))
AUTOINCREMENT = ("audit", "volunteers")
ORDER = {"record_sources": "rowid", "audit": "seq", "volunteers": "id"}


def columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def postgres_to_sqlite(url: str, target: sqlite3.Connection) -> int:
    """Copy the PostgreSQL night at ``url`` into the empty SQLite database ``target``; returns its schema version.

    One REPEATABLE READ transaction reads every table, so the copy is one moment of the night even
    while ``stage serve`` writes (as SQLite's backup API gives the SQLite snapshot).
    """
    source = connect(url)
    try:
        with source.transaction():
            source.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            version = schema_version(source)
            if version == 0:
                raise StoreError(f"{redacted(url)} holds no Stage night", code="no_data")
            if version > len(MIGRATIONS):
                raise StoreError(f"the database was written by a newer Stage (schema {version}); upgrade Stage")
            for script in MIGRATIONS[:version]:
                target.executescript(script)
            target.execute(f"PRAGMA user_version = {version}")
            for table in TABLES:
                names = columns(target, table)
                if not names:  # not at this schema version
                    continue
                order = ORDER.get(table, "1")
                rows = source.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY {order}").fetchall()
                target.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                                   [tuple(row) for row in rows])
            for table, column in IDENTITIES:
                if table in AUTOINCREMENT:
                    last = source.execute(f"SELECT pg_sequence_last_value(pg_get_serial_sequence('{table}',"
                                          f" '{column}'))").fetchone()[0]
                    if last is not None:
                        target.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
                        target.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, last))
        target.commit()
        return version
    finally:
        source.close()


def sqlite_to_postgres(source: sqlite3.Connection, store: PostgresStore) -> dict[str, int]:
    """Copy every row of the SQLite night ``source`` (at the store's schema version) into ``store``, which
    must hold no night yet; one transaction, so a failure leaves the database as empty as it was."""
    counts: dict[str, int] = {}
    dangling = source.execute("PRAGMA foreign_key_check").fetchall()  # SQLite lets them be; PostgreSQL would not
    if dangling:
        table, _, parent, _ = dangling[0]
        raise StoreError(f"the night's {table} point at {parent} that are not in it ({len(dangling)} rows); "
                         "it cannot go into PostgreSQL", code="bad_database")
    counters = dict(source.execute("SELECT name, seq FROM sqlite_sequence").fetchall()) \
        if source.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone() else {}
    with store.transaction() as db:
        _refuse_a_night(db, store)
        for table in TABLES:
            names = columns(source, table)
            rows = source.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY rowid").fetchall()
            db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                           [tuple(row) for row in rows])
            counts[table] = len(rows)
        for table, column in IDENTITIES:
            highest = db.execute(f"SELECT MAX({column}) FROM {table}").fetchone()[0] or 0
            last = max(highest, counters.get(table, 0))
            if last:
                db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), ?)", (last,))
    return counts


def _refuse_a_night(db: PgConnection, store: PostgresStore) -> None:
    held: Any = db.execute("SELECT (SELECT COUNT(*) FROM participants) + (SELECT COUNT(*) FROM records)"
                           " + (SELECT COUNT(*) FROM audit)").fetchone()[0]
    if held:
        raise StoreError(f"{store.location} already holds a night; import only into a new, empty database",
                         code="not_empty")
