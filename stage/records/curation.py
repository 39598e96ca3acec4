"""Curation by the audience: the feed of approved records, recommendations, withdrawal by the author."""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

from stage.errors import Conflict, Forbidden, NotFound
from stage.records import credits, lookup
from stage.records.models import RECORD_COLUMNS, RECORD_FROM, Record
from stage.records.store import Store

log = logging.getLogger(__name__)

# Comments travel with their record. Raw takes are crew material: they reach a screen only when the
# crew sends one there (the media scene), never phone feeds or the wall by themselves; a remix made
# from a take is moderated like any record and may.
FEED_KINDS = ("story", "drawing", "photo", "clip", "remix")
WALL_KINDS = FEED_KINDS


def recommend(store: Store, participant_id: str, record_id: str, on: bool) -> int:
    """Recommend a record once (or take it back); returns the record's new count."""
    record = lookup.record(store, record_id)
    if record is None:
        raise NotFound("no such record")
    if record.status != "approved":
        raise Conflict("only approved records can be recommended", code="not_approved")
    with store.transaction() as db:
        if on:
            changed = db.execute("INSERT INTO recommendations (record_id, participant_id, created_at) VALUES (?, ?, ?)"
                                 " ON CONFLICT DO NOTHING", (record_id, participant_id, time.time())).rowcount
        else:
            changed = db.execute("DELETE FROM recommendations WHERE record_id = ? AND participant_id = ?",
                                 (record_id, participant_id)).rowcount
        if changed:
            Store.audit(db, f"participant:{participant_id}", "recommend" if on else "unrecommend", record_id)
    return counts(store, [record_id]).get(record_id, 0)


def counts(store: Store, record_ids: list[str]) -> dict[str, int]:
    if not record_ids:
        return {}
    marks = ",".join("?" * len(record_ids))
    rows = store.query(f"SELECT record_id, COUNT(*) AS n FROM recommendations WHERE record_id IN ({marks})"
                       " GROUP BY record_id", tuple(record_ids))
    return {row["record_id"]: row["n"] for row in rows}


def feed(store: Store, participant_id: str | None, order: Literal["newest", "top"] = "newest",
         limit: int = 30) -> list[dict[str, Any]]:
    """Approved records for phones, each with its recommendations, whether this phone recommended it,
    and its newest approved comments."""
    order_by = "recs DESC, r.updated_at DESC" if order == "top" else "r.updated_at DESC"
    kinds = ",".join("?" * len(FEED_KINDS))
    rows = store.query(
        f"SELECT {RECORD_COLUMNS}, (SELECT COUNT(*) FROM recommendations c WHERE c.record_id = r.id) AS recs,"
        f" EXISTS(SELECT 1 FROM recommendations c WHERE c.record_id = r.id AND c.participant_id = ?) AS mine"
        f" FROM {RECORD_FROM} WHERE r.status = 'approved' AND r.kind IN ({kinds}) ORDER BY {order_by} LIMIT ?",
        (participant_id, *FEED_KINDS, limit))
    records = lookup.with_sources(store, rows)
    talk = comments(store, [r.id for r in records])
    who = credits.of_records(store, records)  # one walk of the lineage for the whole page
    return [{**public_with_lineage(store, record, who[record.id]), "recommendations": row["recs"],
             "recommended": bool(row["mine"]),
             "comments": talk.get(record.id, [])} for record, row in zip(records, rows)]


def comments(store: Store, record_ids: list[str], limit: int = 5) -> dict[str, list[dict[str, Any]]]:
    """The newest approved comments on each of these records (one query for all of them)."""
    if not record_ids:
        return {}
    marks = ",".join("?" * len(record_ids))
    rows = store.query(
        "SELECT on_id, id, author, text FROM (SELECT s.source_id AS on_id, r.id, r.text, r.created_at,"
        " COALESCE(r.author_name, r.crew_author) AS author,"
        " ROW_NUMBER() OVER (PARTITION BY s.source_id ORDER BY r.created_at DESC) AS n"
        " FROM records r JOIN record_sources s ON s.record_id = r.id"
        f" WHERE s.source_id IN ({marks}) AND r.kind = 'comment' AND r.status = 'approved') AS ranked"
        " WHERE n <= ? ORDER BY created_at DESC", (*record_ids, limit))
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["on_id"], []).append({"id": row["id"], "author": row["author"], "text": row["text"]})
    return out


def public_with_lineage(store: Store, record: Record,
                        credited: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The public form plus "remix of <kind> by <author>" for each approved source, and ``credits``: who made
    it, with what they did (stage/records/credits.py; ``credited`` when the caller read them for many)."""
    sources = [lookup.record(store, source_id) for source_id in record.sources]
    return {**record.public(), "remix_of": [{"id": s.id, "kind": s.kind, "author": s.author}
                                            for s in sources if s is not None and s.status == "approved"],
            "credits": credited if credited is not None else credits.of_record(store, record)}


def feed_changes(store: Store, changed: set[str], removed: set[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The phones' feed update for records that changed and records that left: the approved ones as
    feed items (with recommendations and comments), and the ids that are gone (removed, or no longer
    approved)."""
    records = [lookup.record(store, record_id) for record_id in changed]
    shown = [r for r in records if r is not None and r.status == "approved" and r.kind in FEED_KINDS]
    recs = counts(store, [r.id for r in shown])
    talk = comments(store, [r.id for r in shown])
    who = credits.of_records(store, shown)
    # approved_at (server time): how a rehearsal times update delivery from approval to arrival.
    items = [{**public_with_lineage(store, r, who[r.id]), "recommendations": recs.get(r.id, 0),
              "comments": talk.get(r.id, []), "approved_at": r.updated_at} for r in shown]
    gone = sorted(removed | {r.id for r in records if r is not None and r.status != "approved"})
    return items, gone


def remixes_of(store: Store, record_id: str) -> list[Record]:
    """The crew remixes made directly from a record (as the view reads them now)."""
    rows = store.query(f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} JOIN record_sources s ON s.record_id = r.id"
                       " WHERE s.source_id = ? AND r.kind = 'remix' ORDER BY r.created_at, r.id", (record_id,))
    return lookup.with_sources(store, rows)


def moderation_view(store: Store, record: Record) -> dict[str, Any]:
    """A moderation item: who sent it, its flags, and what it remixes or comments on."""
    linked = public_with_lineage(store, record)
    return {**record.for_moderators(), "remix_of": linked["remix_of"], "credits": linked["credits"]}


def withdraw(store: Store, participant_id: str, record_id: str) -> Record:
    """The author takes their record back: it leaves every screen and the queue."""
    record = lookup.record(store, record_id)
    if record is None:
        raise NotFound("no such record")
    if record.participant_id != participant_id:
        raise Forbidden("only its author can withdraw a record", code="not_yours")
    if record.status != "withdrawn":
        with store.transaction() as db:
            db.execute("UPDATE records SET status = 'withdrawn', updated_at = ? WHERE id = ?", (time.time(), record_id))
            Store.audit(db, f"participant:{participant_id}", "withdraw", record_id)
        log.info("record %s withdrawn by its author", record_id)
    withdrawn = lookup.record(store, record_id)
    assert withdrawn is not None
    return withdrawn
