"""Remix records: crew-authored, built from other records, with what only a remix has kept beside it.

The remix's own details (its recipe, the card's PNG, its length) live in ``state`` under
``remix.<id>``; the record, its sources, those details and the audit rows commit in one transaction,
so a remix is never stored without its lineage or without the log saying who made (and approved) it.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from stage.records import lookup
from stage.records.models import Record
from stage.records.store import Store

KEY = "remix.{}"  # state key of one remix's recipe, poster and duration


def create(store: Store, *, author: str, title: str | None, media: str, sources: list[str], recipe: dict[str, Any],
           poster: str | None, duration: float | None, actor: str, approved: bool) -> Record:
    """Store a rendered remix (``approved`` when the crew approved its own, else ``pending``)."""
    record_id = str(uuid.uuid4())
    now = time.time()
    with store.transaction() as db:
        db.execute("INSERT INTO records (id, kind, status, crew_author, text, media, created_at, updated_at)"
                   " VALUES (?, 'remix', ?, ?, ?, ?, ?, ?)",
                   (record_id, "approved" if approved else "pending", author, title, media, now, now))
        db.executemany("INSERT INTO record_sources (record_id, source_id, role) VALUES (?, ?, 'remix')",
                       [(record_id, source) for source in sources])
        Store.put_state(db, KEY.format(record_id), {"recipe": recipe, "poster": poster, "duration": duration})
        Store.audit(db, actor, "remix", record_id, recipe=recipe["recipe"], sources=sources, media=media,
                    poster=poster)
        if approved:
            Store.audit(db, actor, "approve", record_id, reason="crew approved its own remix")
    record = lookup.record(store, record_id)
    assert record is not None
    return record


def story_among(store: Store, sources: list[str]) -> str:
    """The text of a story among a remix's sources, to title it by ('' when none of them is a story)."""
    if not sources:
        return ""
    rows = store.query(f"SELECT id, text FROM records WHERE kind = 'story' AND id IN ({','.join('?' * len(sources))})",
                       tuple(sources))
    texts = {row["id"]: row["text"] for row in rows}
    return next((texts[s] for s in sources if s in texts), "")  # the first story as the sources were given


def posters(store: Any, record_ids: list[str]) -> dict[str, str]:
    """The poster (a card's designed PNG) of each of these remixes that has one, by record id. ``store``: the
    night's store or a snapshot of it."""
    if not record_ids:
        return {}
    keys = [KEY.format(i) for i in record_ids]
    rows = store.query(f"SELECT key, value FROM state WHERE key IN ({','.join('?' * len(keys))})", tuple(keys))
    found = {row["key"][len(KEY.format("")):]: (json.loads(row["value"]) or {}).get("poster") for row in rows}
    return {record: poster for record, poster in found.items() if poster}
