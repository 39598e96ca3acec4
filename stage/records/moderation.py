"""Moderation: nothing leaves ``pending`` for a screen without a moderator's decision."""

from __future__ import annotations

import logging
import time
from typing import Literal

from stage.errors import Conflict, NotFound
from stage.records import lookup
from stage.records.models import RECORD_COLUMNS, RECORD_FROM, Record
from stage.records.store import Store
from stage.records.text import clean_line

log = logging.getLogger(__name__)

Decision = Literal["approve", "reject", "hide"]
_STATUS = {"approve": "approved", "reject": "rejected", "hide": "rejected"}


def decide(store: Store, record_id: str, decision: Decision, actor: str, reason: str | None = None) -> tuple[Record, bool]:
    """Approve, reject, or hide (take an approved record off every screen); returns (record, changed).

    Deciding the same way twice is a no-op.
    """
    status = _STATUS[decision]
    if reason is not None:  # a reason reaches the phone: plain text, no controls (PostgreSQL refuses a NUL)
        reason = clean_line(reason) or None
    with store.transaction() as db:
        row = db.execute("SELECT status FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise NotFound(f"no record {record_id}")
        if row["status"] == "withdrawn":
            raise Conflict("the author withdrew this record", code="withdrawn")
        if decision == "hide":
            if row["status"] != "approved":
                raise Conflict("only an approved record can be hidden", code="not_approved")
            reason = reason or "hidden by a moderator"
        changed = row["status"] != status
        if changed:
            db.execute(
                "UPDATE records SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
                (status, reason if status == "rejected" else None, time.time(), record_id),
            )
            Store.audit(db, actor, decision, record_id, reason=reason)
    record = lookup.record(store, record_id)
    assert record is not None
    if changed:
        log.info("record %s %s by %s", record_id, status, actor)
    return record, changed


def pending(store: Store, limit: int = 500) -> list[Record]:
    rows = store.query(
        f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE r.status = 'pending' ORDER BY r.created_at LIMIT ?", (limit,)
    )
    return lookup.with_sources(store, rows)


def approved(store: Store, limit: int = 60, kinds: tuple[str, ...] | None = None) -> list[Record]:
    """The newest approved records, newest first, of the given kinds (all when None)."""
    only = f" AND r.kind IN ({','.join('?' * len(kinds))})" if kinds else ""
    rows = store.query(
        f"SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE r.status = 'approved'{only} ORDER BY r.updated_at DESC LIMIT ?",
        (*(kinds or ()), limit),
    )
    return lookup.with_sources(store, rows)


def count_pending(store: Store) -> int:
    return store.query(f"SELECT COUNT(*) AS n FROM {RECORD_FROM} WHERE r.status = 'pending'")[0]["n"]


def ban(store: Store, participant_id: str, actor: str) -> list[str]:
    """Ban a participant and reject every record of theirs still pending; returns those records' ids."""
    now = time.time()
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM participants WHERE id = ?", (participant_id,)).fetchone() is None:
            raise NotFound(f"no participant {participant_id}")
        db.execute("UPDATE participants SET banned = 1 WHERE id = ?", (participant_id,))
        pending_ids = [r["id"] for r in db.execute(
            "SELECT id FROM records WHERE participant_id = ? AND status = 'pending'", (participant_id,))]
        db.execute("UPDATE records SET status = 'rejected', reason = 'banned', updated_at = ?"
                   " WHERE participant_id = ? AND status = 'pending'", (now, participant_id))
        Store.audit(db, actor, "ban", participant_id, rejected=pending_ids)
    log.info("participant %s banned by %s; %d pending records rejected", participant_id, actor, len(pending_ids))
    return pending_ids
