"""The archive's database work: a snapshot copy of a night, its scrub for export, its check on import.

``stage export``, ``stage render`` and ``stage import`` run beside (or without) ``stage serve``, whose
store holds an exclusive flock on the data directory; so they never open a ``Store`` there. They work
on a :class:`Snapshot`, a copy made with SQLite's backup API (consistent even while the server
writes; WAL readers do not block the writer). A snapshot is a private copy no server ever serves, so
its scrub commits on its own connection rather than through ``Store.transaction`` (whose group
commit and fsync promise are for acks to phones). The zip, manifest and file work is ``stage.archive``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stage.errors import StageError, StoreError
from stage.records import lineage as lineage_module
from stage.records.lineage import Queryable
from stage.records.migrations import MIGRATIONS

Schema = frozenset[tuple[str, str, str]]  # (type, name, sql) of every table, index, view and trigger


class SnapshotError(StageError):
    code = "no_data"


class Snapshot:
    """The database of ``data_dir`` as it was when this was made, in memory or in ``copy_to``.

    With ``database`` (a PostgreSQL URL) the night is read from there instead, into the same SQLite form
    (:mod:`stage.records.transfer`); ``data_dir`` then holds only the night's media."""

    def __init__(self, data_dir: Path, copy_to: Path | None = None, database: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        if database:
            from stage.records import transfer

            self.db = sqlite3.connect(str(copy_to) if copy_to else ":memory:")
            try:
                transfer.postgres_to_sqlite(database, self.db)
            except BaseException:
                self.db.close()
                raise
            self.db.row_factory = sqlite3.Row
            return
        path = self.data_dir / "stage.db"
        if not path.is_file():
            raise SnapshotError(f"{data_dir} holds no Stage data (no stage.db)")
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            self.db = sqlite3.connect(str(copy_to) if copy_to else ":memory:")
            source.backup(self.db)
        finally:
            source.close()
        if copy_to:  # the copy inherits WAL mode; one self-contained file is what an archive holds
            self.db.execute("PRAGMA journal_mode=DELETE")
        self.db.row_factory = sqlite3.Row

    def query(self, sql: str, params: tuple | dict = ()) -> list[Any]:
        return self.db.execute(sql, params).fetchall()

    def close(self) -> None:
        self.db.close()


# -- export: what leaves the venue ------------------------------------------------------------

def scrub_for_export(snapshot: Snapshot, keep_withheld: bool = False) -> list[str]:
    """Make the snapshot fit to leave the venue; returns the ids of the withheld records it deleted.

    Withheld records (rejected, withdrawn, pending, rehearsal phones', deleted takes, takes of a
    performer who withdrew consent, remixes built on any of those, comments on them) go unless
    ``keep_withheld``; phones' device key hashes and never-stored take slates always go; then the
    file is vacuumed, so not even SQLite's free pages still hold what was deleted or overwritten.
    """
    withheld = [] if keep_withheld else _drop_withheld(snapshot)
    _forget_private(snapshot.db)
    return withheld


def _drop_withheld(snapshot: Snapshot) -> list[str]:
    db = snapshot.db
    lineage = lineage_module.load(snapshot)
    ids = {i for i, n in lineage.nodes.items() if n.withheld}
    ids |= {r[0] for r in db.execute(
        "SELECT c.id FROM records c LEFT JOIN participants p ON p.id = c.participant_id WHERE c.kind = 'comment'"
        " AND (c.status != 'approved' OR p.simulated = 1)")}
    # A comment goes with what it is on.
    ids |= {r[0] for r in db.execute("SELECT s.record_id, s.source_id FROM record_sources s"
                                     " JOIN records c ON c.id = s.record_id WHERE c.kind = 'comment'")
            if r[1] in ids}
    marks = [(i,) for i in ids]
    db.execute("PRAGMA foreign_keys=OFF")
    db.executemany("DELETE FROM record_sources WHERE record_id = ? OR source_id = ?", [(i, i) for i in ids])
    db.executemany("DELETE FROM takes WHERE record_id = ?", marks)
    db.executemany("DELETE FROM recommendations WHERE record_id = ?", marks)
    db.executemany("UPDATE volunteers SET story_id = NULL WHERE story_id = ?", marks)
    db.executemany("UPDATE takes SET story_id = NULL WHERE story_id = ?", marks)
    db.executemany("DELETE FROM state WHERE key = 'remix.' || ?", marks)
    db.executemany("DELETE FROM records WHERE id = ?", marks)
    db.commit()  # _forget_private, always next, vacuums these rows out of the file's free pages too
    return sorted(ids)


def _forget_private(db: sqlite3.Connection) -> None:
    """An archive is for remixing, not for recognising phones: the hash of each phone's device key
    (which would let a later server tie a returning phone to its old records) does not leave the venue,
    nor do the slates of takes that were started and never stored (performer names, story text)."""
    db.execute("UPDATE participants SET device_key_hash = 'archived:' || id")
    db.execute("DELETE FROM state WHERE key LIKE 'take.started.%'")
    db.commit()
    db.execute("VACUUM")  # old values (and withheld rows) must not survive in free pages of the copied file


def records_for_export(snapshot: Snapshot) -> list[sqlite3.Row]:
    """Every record left in the snapshot, oldest first, with its author's name as ``author``."""
    return snapshot.query("SELECT r.*, COALESCE(r.author_name, r.crew_author) AS author FROM records r"
                          " ORDER BY r.created_at, r.id")


def takes_for_export(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Every take with its media file, circled ones first (the crew's picks lead the list)."""
    return [dict(r) for r in snapshot.query("SELECT t.*, r.media FROM takes t JOIN records r ON r.id = t.record_id"
                                            " ORDER BY t.circled DESC, t.story_id, t.number, t.created_at")]


def remix_details(snapshot: Snapshot, record_id: str) -> Any:
    """A remix's recipe, poster and duration (None when the snapshot holds none for it)."""
    rows = snapshot.query("SELECT value FROM state WHERE key = ?", (f"remix.{record_id}",))
    return json.loads(rows[0]["value"]) if rows else None


def remix_posters(snapshot: Snapshot) -> set[str]:
    """The media names of every remix's poster (a card's PNG), which the archive must carry too."""
    posters = set()
    for row in snapshot.query("SELECT value FROM state WHERE key LIKE 'remix.%'"):
        poster = (json.loads(row["value"]) or {}).get("poster")
        if poster:
            posters.add(poster)
    return posters


def audit_for_export(snapshot: Snapshot) -> list[dict[str, Any]]:
    return [dict(r) for r in snapshot.query("SELECT * FROM audit ORDER BY seq")]


def record_count(store: Queryable) -> int:
    """Every record a database holds, shown or not (what an import reports having brought in)."""
    return store.query("SELECT COUNT(*) AS n FROM records")[0]["n"]


# -- import: is this file a Stage database? -----------------------------------------------------

@dataclass(frozen=True)
class DatabaseFacts:
    """What SQLite itself says about a database file; the importer judges them."""

    integrity: list[str]  # integrity_check's lines: ["ok"] for a sound file
    version: int  # user_version: the number of Stage migrations it went through (0 when not sound)
    schema: Schema  # empty when not sound


def examine(path: Path) -> DatabaseFacts:
    """Open ``path`` read-only (a bad file is never changed) and read its integrity, version and schema.

    Raises :class:`StoreError` (code ``bad_database``) when SQLite cannot read it at all ("file is not
    a database", "database disk image is malformed"). A file that fails the integrity check is not
    read further: its version and schema would be read from broken pages.
    """
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(str(exc), code="bad_database") from None
    try:
        integrity = [row[0] for row in db.execute("PRAGMA integrity_check(20)")]
        if integrity != ["ok"]:
            return DatabaseFacts(integrity, 0, frozenset())
        return DatabaseFacts(integrity, db.execute("PRAGMA user_version").fetchone()[0], _schema(db))
    except sqlite3.Error as exc:
        raise StoreError(str(exc), code="bad_database") from None
    finally:
        db.close()


def schema_at(version: int) -> Schema:
    """The schema Stage's migrations make at ``version``, built in memory to compare a file against."""
    db = sqlite3.connect(":memory:")
    try:
        for script in MIGRATIONS[:version]:
            db.executescript(script)
        return _schema(db)
    finally:
        db.close()


def _schema(db: sqlite3.Connection) -> Schema:
    """(type, name, sql) of every table, index, view and trigger, SQLite's own ones aside."""
    rows = db.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    return frozenset((kind, name, sql or "") for kind, name, sql in rows)
