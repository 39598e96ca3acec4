"""A finished render becomes a remix record: crew-authored, its sources the records it used.

It goes to moderation like everything else (``pending``); the show may let crew approve their own
remixes (``remix.crew_approves_own``), which is then audited as a crew approval. The store work
(record, sources, recipe, audit rows in one transaction) is :func:`stage.records.remixes.create`.
"""

from __future__ import annotations

import logging
from typing import Any

from stage.errors import Forbidden
from stage.records import credits, remixes
from stage.records.models import Record
from stage.records.store import Store

log = logging.getLogger(__name__)
CREW_AUTHOR = credits.CREW


def save(store: Store, draft: dict[str, Any], actor: str, approve: bool = False, allowed: bool = False) -> Record:
    """Store a rendered draft as a remix record (pending, or approved when asked and the show allows it)."""
    if approve and not allowed:
        raise Forbidden("this show does not let crew approve their own remixes; send it to moderation",
                        code="approve_not_allowed")
    # Its words are the story it tells, whole: walls and phones show them. The recipe is the crew's word (kept
    # beside the record, remix.<id>), never the audience's.
    record = remixes.create(store, author=CREW_AUTHOR, title=draft.get("title") or None, media=draft["media"],
                            sources=draft["sources"], recipe=draft["recipe"], poster=draft.get("poster"),
                            duration=draft.get("duration"), actor=actor, approved=approve)
    log.info("remix %s (%s) saved as %s by %s", record.id, draft["recipe"]["recipe"], record.status, actor)
    return record
