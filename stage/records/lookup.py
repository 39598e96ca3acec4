"""Any record by its id, whatever its kind (story, drawing, photo, clip, comment, take, remix), and the
record an id already made when a phone sends it again."""

from __future__ import annotations

from stage.errors import Conflict
from stage.records.models import RECORD_COLUMNS, RECORD_FROM, Record
from stage.records.store import Store


def record(store: Store, record_id: str) -> Record | None:
    rows = store.query(f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE r.id = ?", (record_id,))
    return with_sources(store, rows)[0] if rows else None


def resent(store: Store, participant_id: str, record_id: str) -> Record | None:
    """The record this id already made, if any (a phone's retry); another phone's id is a conflict."""
    existing = record(store, record_id)
    return None if existing is None else same_author(existing, participant_id)


def same_author(found: Record, participant_id: str) -> Record:
    if found.participant_id != participant_id:
        raise Conflict("that id belongs to another record", code="id_conflict")
    return found


def with_sources(store: Store, rows: list) -> list[Record]:
    """Records from query rows, each with its sources (one query for all of them)."""
    ids = [row["id"] for row in rows]
    sources: dict[str, list[str]] = {}
    if ids:
        marks = ",".join("?" * len(ids))
        # rowid: the order the sources were given, on both backends (lineage.load reads it so too)
        for link in store.query(f"SELECT record_id, source_id FROM record_sources WHERE record_id IN ({marks})"
                                " ORDER BY rowid", tuple(ids)):
            sources.setdefault(link["record_id"], []).append(link["source_id"])
    return [Record.from_row(row, tuple(sources.get(row["id"], ()))) for row in rows]
