"""A finished render becomes a remix record: crew-authored, its sources the records it used.

It goes to moderation like everything else (``pending``); the show may let crew approve their own
remixes (``remix.crew_approves_own``), which is then audited as a crew approval. What only a remix
has (its recipe, the card's PNG, its length) is kept in ``state`` under ``remix.<id>``.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from stage.errors import Forbidden
from stage.records import submissions
from stage.records.models import Record
from stage.records.store import Store

log = logging.getLogger(__name__)
CREW_AUTHOR = "Stage crew"
TITLES = {"card": "Story card", "captioned-take": "Captioned take", "reel": "Reel"}


def save(store: Store, draft: dict[str, Any], actor: str, approve: bool = False, allowed: bool = False) -> Record:
    """Store a rendered draft as a remix record (pending, or approved when asked and the show allows it)."""
    if approve and not allowed:
        raise Forbidden("this show does not let crew approve their own remixes; send it to moderation",
                        code="approve_not_allowed")
    record_id = str(uuid.uuid4())
    now = time.time()
    status = "approved" if approve else "pending"
    title = f"{TITLES[draft['recipe']['recipe']]}: {draft.get('title', '')}".strip(": ")
    with store.transaction() as db:
        db.execute("INSERT INTO records (id, kind, status, crew_author, text, media, created_at, updated_at)"
                   " VALUES (?, 'remix', ?, ?, ?, ?, ?, ?)", (record_id, status, CREW_AUTHOR, title[:200],
                                                              draft["media"], now, now))
        db.executemany("INSERT INTO record_sources (record_id, source_id, role) VALUES (?, ?, 'remix')",
                       [(record_id, source) for source in draft["sources"]])
        Store.put_state(db, f"remix.{record_id}", {"recipe": draft["recipe"], "poster": draft.get("poster"),
                                                   "duration": draft.get("duration")})
        Store.audit(db, actor, "remix", record_id, recipe=draft["recipe"]["recipe"], sources=draft["sources"],
                    media=draft["media"], poster=draft.get("poster"))
        if approve:
            Store.audit(db, actor, "approve", record_id, reason="crew approved its own remix")
    log.info("remix %s (%s) saved as %s by %s", record_id, draft["recipe"]["recipe"], status, actor)
    record = submissions.get(store, record_id)
    assert record is not None
    return record
