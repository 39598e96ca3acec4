"""What ``stage doctor`` says about a night's store: which backend, where, reachable, at which schema version.

It only reads: a SQLite file is opened read-only (never migrated, never locked), a PostgreSQL database
through one plain connection (no serve lock), so it can be asked while ``stage serve`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stage.errors import StoreError
from stage.records.migrations import MIGRATIONS
from stage.records.store import is_postgres_url


@dataclass(frozen=True)
class StoreFacts:
    backend: str  # sqlite | postgresql
    location: str  # the file, or the URL without its password
    reachable: bool
    schema: int | None  # the version the store is at (None: not reachable or no night yet)
    problem: str | None = None  # what stops a server from using it (None: it can)

    @property
    def current(self) -> int:
        return len(MIGRATIONS)

    def verdict(self) -> str:
        if self.problem:
            return self.problem
        if self.schema is None or self.schema == 0:
            return f"no night yet; stage serve creates schema {self.current}"
        if self.schema < self.current:
            return f"schema {self.schema}; stage serve migrates it to {self.current}"
        return f"schema {self.schema} (current)"


def diagnose(data_dir: Path, database: str | None) -> StoreFacts:
    if database and is_postgres_url(database):
        return _postgres(database)
    if database:
        return StoreFacts("?", "(not shown)", False, None, "not a postgresql:// URL")
    return _sqlite(Path(data_dir) / "stage.db")


def _sqlite(path: Path) -> StoreFacts:
    from stage.records.archive import examine

    if not path.exists():
        return StoreFacts("sqlite", str(path), True, None)
    try:
        facts = examine(path)
    except StoreError as exc:
        return StoreFacts("sqlite", str(path), False, None, f"cannot be read: {exc.message}")
    if facts.integrity != ["ok"]:
        return StoreFacts("sqlite", str(path), True, None, f"damaged: {'; '.join(facts.integrity[:3])}")
    return _judged("sqlite", str(path), facts.version)


def _postgres(url: str) -> StoreFacts:
    from stage.records.postgres_connection import connect, redacted, schema_version

    try:
        conn = connect(url)
    except StoreError as exc:
        return StoreFacts("postgresql", redacted(url), False, None, exc.message)
    try:
        return _judged("postgresql", redacted(url), schema_version(conn))
    finally:
        conn.close()


def _judged(backend: str, location: str, version: int) -> StoreFacts:
    newer = version > len(MIGRATIONS)
    return StoreFacts(backend, location, True, version,
                      f"written by a newer Stage (schema {version}); upgrade Stage" if newer else None)
