"""Volunteers: phones that offered to perform, with the consent text and version they agreed to."""

from __future__ import annotations

import logging
import time
from typing import Any

from stage.errors import Conflict, InvalidInput
from stage.records import lookup
from stage.records.store import Store
from stage.show.models import Consent

log = logging.getLogger(__name__)


def volunteer(store: Store, participant_id: str, consent: Consent, agreed_version: str,
              story_id: str | None = None) -> None:
    """Record an offer to perform (optionally a given story) under the show's current consent text."""
    if agreed_version != consent.version:
        raise InvalidInput("the consent text changed; read it again before agreeing", code="consent_changed")
    if story_id is not None:
        story = lookup.record(store, story_id)
        if story is None or story.status != "approved" or story.kind != "story":
            raise Conflict("only an approved story can be performed", code="not_approved")
    with store.transaction() as db:
        db.execute("UPDATE volunteers SET withdrawn_at = ? WHERE participant_id = ? AND withdrawn_at IS NULL",
                   (time.time(), participant_id))  # one standing offer per phone: the newest
        db.execute("INSERT INTO volunteers (participant_id, story_id, consent_version, consent_text, given_at)"
                   " VALUES (?, ?, ?, ?, ?)", (participant_id, story_id, consent.version, consent.words, time.time()))
        db.execute("UPDATE participants SET consent = 1 WHERE id = ?", (participant_id,))
        Store.audit(db, f"participant:{participant_id}", "volunteer", story_id, consent_version=consent.version)
    log.info("participant %s volunteered to perform%s", participant_id, f" story {story_id}" if story_id else "")


def withdraw_consent(store: Store, participant_id: str) -> bool:
    """Withdraw every standing consent of this phone; True if there was one."""
    with store.transaction() as db:
        changed = db.execute("UPDATE volunteers SET withdrawn_at = ? WHERE participant_id = ? AND withdrawn_at IS NULL",
                             (time.time(), participant_id)).rowcount
        db.execute("UPDATE participants SET consent = 0 WHERE id = ?", (participant_id,))
        # The takes this consent covered stay hidden for good: consenting again later covers new takes only.
        db.execute("UPDATE takes SET consent_withdrawn_at = ? WHERE performer_id = ? AND consent_withdrawn_at IS NULL",
                   (time.time(), participant_id))
        if changed:
            Store.audit(db, f"participant:{participant_id}", "consent_withdrawn", participant_id)
    return bool(changed)


def standing(store: Store, participant_id: str) -> dict[str, Any] | None:
    rows = store.query("SELECT story_id, consent_version, given_at FROM volunteers WHERE participant_id = ?"
                       " AND withdrawn_at IS NULL ORDER BY id DESC LIMIT 1", (participant_id,))
    return dict(rows[0]) if rows else None


def listing(store: Store) -> list[dict[str, Any]]:
    """The host's volunteer list: standing offers first, newest first, with the story they offered."""
    rows = store.query(
        "SELECT v.id, v.participant_id, p.name, v.story_id, s.text AS story_text, v.consent_version, v.given_at,"
        " v.withdrawn_at FROM volunteers v JOIN participants p ON p.id = v.participant_id"
        " LEFT JOIN records s ON s.id = v.story_id AND s.status = 'approved'"
        " WHERE p.banned = 0 ORDER BY v.withdrawn_at IS NOT NULL, v.given_at DESC LIMIT 200")
    return [dict(row) for row in rows]
